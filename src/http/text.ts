// Text that people read (emails, names, key names) must look like what it is. Characters that
// show nothing, or nothing reliable, let one string pass for another: `a@x.test\u200b` lists
// like `a@x.test`, a bidi override reads a name backwards, a Hangul filler is a blank.

/**
 * Control (Cc) and format (Cf) characters — NUL, zero-width spaces and joiners, bidi controls —
 * surrogates (Cs), private-use (Co) and unassigned (Cn) code points, everything Unicode says to
 * render as nothing (Default_Ignorable_Code_Point: fillers, variation selectors, the combining
 * grapheme joiner), and the blank Braille pattern.
 */
const unseen = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Default_Ignorable_Code_Point}\u2800]/u
const unseenEverywhere = new RegExp(unseen.source, 'gu')

export const UNSEEN_PROBLEM = 'must not contain control, invisible or unassigned characters'

export const hasUnseen = (text: string) => unseen.test(text)

/** The text without those characters (for what an identity provider sends, which cannot be refused). */
export const withoutUnseen = (text: string) => text.replace(unseenEverywhere, '')
