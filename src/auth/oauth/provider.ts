// What the OAuth routes need from an identity provider, whatever library speaks to it.

export const providerNames = ['google', 'github', 'apple', 'oidc'] as const
export type ProviderName = (typeof providerNames)[number]

export const isProviderName = (name: string): name is ProviderName => (providerNames as readonly string[]).includes(name)

/** The settings each provider needs, named in the 404 of an unconfigured one. */
export const requiredSettings: Record<ProviderName, string[]> = {
  google: ['GOOGLE_OAUTH_CLIENT_ID', 'GOOGLE_OAUTH_CLIENT_SECRET'],
  github: ['GITHUB_OAUTH_CLIENT_ID', 'GITHUB_OAUTH_CLIENT_SECRET'],
  apple: ['APPLE_OAUTH_CLIENT_ID', 'APPLE_OAUTH_TEAM_ID', 'APPLE_OAUTH_KEY_ID', 'APPLE_OAUTH_PRIVATE_KEY'],
  oidc: ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'],
}

/** The person the provider vouches for. */
export type Profile = {
  subject: string
  email: string | null
  emailVerified: boolean
  name: string | null
  avatarUrl: string | null
}

/** What came back to the callback besides code and state (Apple posts the user's name once). */
export type CallbackFields = Record<string, string | undefined>

export type Provider = {
  /** Calls back with a cross-site form POST (Apple), so its cookies must be SameSite=None. */
  formPost: boolean
  /** Sends a PKCE code challenge, so a verifier is kept for the callback. */
  pkce: boolean
  /** Sends a nonce that its ID token must carry back, so the nonce is kept for the callback. */
  nonce: boolean
  authorizationUrl(state: string, codeVerifier: string, nonce: string): Promise<URL>
  /** Exchanges the code and says who signed in; fails with an OAuthFailure. */
  profile(code: string, kept: { codeVerifier?: string; nonce?: string }, fields: CallbackFields): Promise<Profile>
}

/**
 * A sign-in that did not work. `code` goes to the frontend as `#error=<code>`; `detail`, when
 * given, is something the operator should see in the server log (never shown to the client).
 */
export class OAuthFailure extends Error {
  constructor(
    readonly code: string,
    readonly detail?: string,
  ) {
    super(detail ?? code)
    this.name = 'OAuthFailure'
  }
}

/** A provider's own error code passed on only when it is a plain word (it lands in a URL). */
export const providerCode = (code: string | undefined, fallback: string) =>
  code && /^[a-z0-9_]{1,64}$/i.test(code) ? code.toLowerCase() : fallback
