// Finds the account an identity-provider sign-in belongs to: the linked identity, else the
// account with the same verified email (linking it), else a new account. An account whose
// address nobody had proven is claimed, not shared: see the store's claimUnverifiedAccount.
import type { Runtime } from '../../runtime'
import { providerName } from '../accounts'
import type { User } from '../store'
import { OAuthFailure, type Profile, type ProviderName } from './provider'
import { principalsChanged } from '../principal-cache'

async function findOrCreate(rt: Runtime, provider: ProviderName, profile: Profile): Promise<User> {
  const linked = await rt.store.accounts.findUserByIdentity(provider, profile.subject)
  if (linked) return linked
  if (!profile.email) throw new OAuthFailure('email_missing')
  // An unverified address proves nothing: it must neither open nor claim an account.
  if (!profile.emailVerified) throw new OAuthFailure('email_not_verified')
  const existing = await rt.store.accounts.findUserByEmail(profile.email)
  if (!existing && !rt.config.allowRegistration) throw new OAuthFailure('registration_closed')
  const user =
    existing ??
    (await rt.store.accounts.insertUser(
      {
        email: profile.email,
        passwordHash: null,
        name: providerName(profile.name) ?? '',
        avatarUrl: profile.avatarUrl,
        provider,
        role: 'user',
        emailVerified: true,
      },
      Date.now(),
    )) ??
    // created meanwhile by a concurrent sign-in
    (await rt.store.accounts.findUserByEmail(profile.email))!
  // A deactivated account is left exactly as it is: no claim, no new identity.
  if (!user.isActive) throw new OAuthFailure('account_disabled')
  if (!user.emailVerified) {
    await rt.store.accounts.claimUnverifiedAccount(user.id, Date.now())
    await principalsChanged(rt, user.id)
  }
  await rt.store.accounts.linkIdentity({ provider, subject: profile.subject, userId: user.id, email: profile.email }, Date.now())
  return user
}

export async function userForProfile(rt: Runtime, provider: ProviderName, profile: Profile): Promise<User> {
  const user = await findOrCreate(rt, provider, profile)
  if (!user.isActive) throw new OAuthFailure('account_disabled')
  await rt.store.accounts.fillProfile(user.id, providerName(profile.name), profile.avatarUrl)
  return (await rt.store.accounts.findUserById(user.id))!
}
