// Finds the account an identity-provider sign-in belongs to: the linked identity, else the
// account with the same verified email (linking it), else a new account. An account whose
// address nobody had proven is claimed, not shared: see claimUnverifiedAccount.
import type { Runtime } from '../../runtime'
import { providerName } from '../accounts'
import {
  claimUnverifiedAccount,
  fillProfile,
  findUserByEmail,
  findUserById,
  findUserByIdentity,
  insertUser,
  linkIdentity,
  type UserRow,
} from '../user-store'
import { OAuthFailure, type Profile, type ProviderName } from './provider'

async function findOrCreate(rt: Runtime, provider: ProviderName, profile: Profile): Promise<UserRow> {
  const linked = await findUserByIdentity(rt.db, provider, profile.subject)
  if (linked) return linked
  if (!profile.email) throw new OAuthFailure('email_missing')
  // An unverified address proves nothing: it must neither open nor claim an account.
  if (!profile.emailVerified) throw new OAuthFailure('email_not_verified')
  const existing = await findUserByEmail(rt.db, profile.email)
  if (!existing && !rt.config.allowRegistration) throw new OAuthFailure('registration_closed')
  const user =
    existing ??
    (await insertUser(rt.db, {
      email: profile.email,
      passwordHash: null,
      name: providerName(profile.name) ?? '',
      avatarUrl: profile.avatarUrl,
      provider,
      role: 'user',
      emailVerified: true,
    })) ??
    // created meanwhile by a concurrent sign-in
    (await findUserByEmail(rt.db, profile.email))!
  // A deactivated account is left exactly as it is: no claim, no new identity.
  if (!user.is_active) throw new OAuthFailure('account_disabled')
  if (!user.email_verified) await claimUnverifiedAccount(rt.db, user.id)
  await linkIdentity(rt.db, provider, profile.subject, user.id, profile.email)
  return user
}

export async function userForProfile(rt: Runtime, provider: ProviderName, profile: Profile): Promise<UserRow> {
  const user = await findOrCreate(rt, provider, profile)
  if (!user.is_active) throw new OAuthFailure('account_disabled')
  await fillProfile(rt.db, user.id, providerName(profile.name), profile.avatarUrl)
  return (await findUserById(rt.db, user.id))!
}
