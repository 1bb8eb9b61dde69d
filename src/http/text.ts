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

/**
 * What makes an email pass for another though every character shows: letters of two of the
 * scripts that share lookalikes (Latin `a`, Cyrillic `а`, Greek `ο`), combining marks left over
 * after NFC (`İ` lower-cases to `i` and a dot above), dots other than the full stop, and the
 * object replacement character.
 */
export function lookalikeProblem(email: string): string | undefined {
  const scripts = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u].filter((script) => script.test(email))
  if (scripts.length > 1) return 'must not mix Latin, Cyrillic and Greek letters'
  if (/\p{M}/u.test(email)) return 'must not contain combining marks'
  if (/[\u3002\uff0e\uff61\ufffc]/u.test(email)) return 'must not contain dots other than "."'
  return undefined
}

/** Every run of spaces and line or paragraph separators (a no-break space, an ideographic space…) as one plain space. */
export const plainSpaces = (text: string) => text.replace(/[\p{Zs}\p{Zl}\p{Zp}]+/gu, ' ')

/** The text without those characters (for what an identity provider sends, which cannot be refused). */
export const withoutUnseen = (text: string) => text.replace(unseenEverywhere, '')

/** The shape of an email address: something, @, a domain with a dot. */
export const looksLikeEmail = (text: string) => /^[^\s@]+@[^\s@]+\.[^\s@.]+$/.test(text) && text.length <= 254
