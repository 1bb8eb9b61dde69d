// Email/password accounts: the rules an email and a password must meet, registration,
// sign-in that fails the same way (and in the same time) whatever was wrong, and admins.
import type { User } from './store'
import { HttpError } from '../http/errors'
import { InvalidField } from '../http/invalid-field'
import { hasUnseen, lookalikeProblem, looksLikeEmail, plainSpaces, UNSEEN_PROBLEM, withoutUnseen } from '../http/text'
import type { Runtime } from '../runtime'
import { recordFailedSignIn, recordSuccessfulSignIn, signInAttempt } from '../threats/brute-force'
import { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords'
import { principalsChanged } from './principal-cache'
import { COMMAND_LINE, recordAudit } from '../audit/service'

/** The one form an email is stored and looked up in: trimmed, NFC, lower-case. */
export const canonicalEmail = (raw: string) => raw.trim().normalize('NFC').toLowerCase()

/** An email in its canonical form, or a 400 naming the field. */
export function normaliseEmail(raw: string): string {
  const email = canonicalEmail(raw)
  if (hasUnseen(email)) throw new InvalidField('email', UNSEEN_PROBLEM)
  // Ligatures, full-width letters and the like: lookalikes of the plain letters.
  if (email !== email.normalize('NFKC')) throw new InvalidField('email', 'must not contain compatibility characters (ligatures, full-width letters)')
  const lookalike = lookalikeProblem(email)
  if (lookalike) throw new InvalidField('email', lookalike)
  if (!looksLikeEmail(email)) throw new InvalidField('email', 'must be an email address')
  return email
}

/** A display name as typed: trimmed, NFC, every character visible (a 400 naming the field). */
export function normaliseName(raw: string | undefined): string {
  const name = plainSpaces(raw ?? '').trim().normalize('NFC')
  if (hasUnseen(name)) throw new InvalidField('name', UNSEEN_PROBLEM)
  return name
}

/** A display name an identity provider gave: the characters a typed name may not have are dropped. */
export const providerName = (raw: string | null) => (raw === null ? null : plainSpaces(withoutUnseen(raw)).trim().normalize('NFC') || null)

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new InvalidField('password', `must be at least ${MIN_PASSWORD_LENGTH} characters`)
}

export async function register(rt: Runtime, input: { email: string; password: string; name?: string }): Promise<User> {
  if (!rt.config.allowRegistration) throw new HttpError(403, 'Registration is closed on this server', { code: 'registration_closed' })
  const email = normaliseEmail(input.email)
  checkPassword(input.password)
  const taken = () => new HttpError(409, 'An account with this email already exists', { code: 'email_taken' })
  if (await rt.store.accounts.findUserByEmail(email)) throw taken()
  const user = await rt.store.accounts.insertUser(
    {
      email,
      passwordHash: await hashPassword(input.password),
      name: normaliseName(input.name),
      avatarUrl: null,
      provider: 'email',
      role: 'user',
      emailVerified: false,
    },
    Date.now(),
  )
  if (!user) throw taken()
  return user
}

/**
 * The user whose email and password these are; one answer for every kind of failure.
 * Failures count towards brute-force detection per address and per account; past the
 * threshold, attempts are refused before any password is checked.
 */
export async function authenticate(
  rt: Runtime,
  input: { email: string; password: string },
  address: string | undefined,
): Promise<User> {
  const email = canonicalEmail(input.email)
  return signInAttempt(rt, address, email, async () => {
    const user = await rt.store.accounts.findUserByEmail(email)
    const matches = await verifyPassword(input.password, user?.passwordHash)
    // The check took a while: a provider sign-in may have claimed the account (and taken its
    // password) meanwhile. What counts is the password as it is now.
    const unchanged = user !== undefined && (await rt.store.accounts.findUserById(user.id))?.passwordHash === user.passwordHash
    if (!user || !matches || !unchanged || !user.isActive) {
      await recordFailedSignIn(rt, address, email)
      throw new HttpError(401, 'Invalid email or password', { code: 'invalid_credentials' })
    }
    await recordSuccessfulSignIn(rt, address, email)
    return user
  })
}

/**
 * Creates an admin, or promotes (and re-activates) the account that has this email, revoking its
 * sessions and API keys. `selfRegistered` tells that the account was registered through the API
 * with an address nobody has proven: its first owner may be someone else.
 */
export async function createSuperuser(
  rt: Runtime,
  input: { email: string; password: string; name?: string },
): Promise<{ user: User; created: boolean; selfRegistered: boolean }> {
  const email = normaliseEmail(input.email)
  checkPassword(input.password)
  const name = input.name === undefined ? undefined : normaliseName(input.name)
  const passwordHash = await hashPassword(input.password)
  const found = await rt.store.accounts.findUserByEmail(email)
  if (!found) {
    const user = await rt.store.accounts.insertUser(
      { email, passwordHash, name: name ?? '', avatarUrl: null, provider: 'email', role: 'admin', emailVerified: true },
      Date.now(),
    )
    if (user) return { user, created: true, selfRegistered: false }
  }
  // The account existed, or was made meanwhile (a concurrent sign-up or create-superuser took the email).
  const existing = found ?? (await rt.store.accounts.findUserByEmail(email))!
  await rt.store.accounts.promoteToAdmin(existing.id, { passwordHash, name }, Date.now())
  await principalsChanged(rt, existing.id)
  // Audited as the admin API's changes are, from the command line (no actor, address or request).
  const target = { targetType: 'user', targetId: existing.id }
  if (existing.role !== 'admin') recordAudit(rt, COMMAND_LINE, { action: 'user.role_changed', ...target, before: { role: existing.role }, after: { role: 'admin' } })
  if (!existing.isActive) recordAudit(rt, COMMAND_LINE, { action: 'user.activated', ...target, before: { isActive: false }, after: { isActive: true } })
  const selfRegistered = existing.provider === 'email' && !existing.emailVerified
  return { user: (await rt.store.accounts.findUserByEmail(email))!, created: false, selfRegistered }
}
