// The one module that speaks to identity providers through arctic (frozen at 3.7 upstream):
// replacing the library means rewriting this file only. Each configured provider becomes a
// `Provider`; Google and any OIDC issuer share one OpenID Connect implementation.
import {
  Apple,
  ArcticFetchError,
  CodeChallengeMethod,
  OAuth2Client,
  OAuth2RequestError,
  UnexpectedResponseError,
  type OAuth2Tokens,
} from 'arctic'
import { ConfigError, type Config } from '../../config'
import { canonicalEmail } from '../accounts'
import { discovery, profileFromClaims, PROVIDER_TIMEOUT_MS, text, verifyIdToken, type OidcMetadata } from './oidc'
import { OAuthFailure, providerCode, type CallbackFields, type Profile, type Provider, type ProviderName } from './provider'

export type GitHubEndpoints = { authorization: string; token: string; api: string }

/** For tests only (an argument of `createApp`, never a setting): point providers at a fake. */
export type OAuthOverrides = { google?: Partial<OidcMetadata>; github?: Partial<GitHubEndpoints> }

const googleMetadata: OidcMetadata = {
  issuer: ['https://accounts.google.com', 'accounts.google.com'],
  authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
  token_endpoint: 'https://oauth2.googleapis.com/token',
  jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
  userinfo_endpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
}

const appleMetadata: OidcMetadata = {
  issuer: 'https://appleid.apple.com',
  authorization_endpoint: 'https://appleid.apple.com/auth/authorize',
  token_endpoint: 'https://appleid.apple.com/auth/token',
  jwks_uri: 'https://appleid.apple.com/auth/keys',
}

const githubEndpoints: GitHubEndpoints = {
  authorization: 'https://github.com/login/oauth/authorize',
  token: 'https://github.com/login/oauth/access_token',
  api: 'https://api.github.com',
}

type ClientCredentials = { clientId: string; clientSecret: string }

export function createProviders(config: Config, overrides: OAuthOverrides = {}): Partial<Record<ProviderName, Provider>> {
  const redirectUri = (name: ProviderName) => `${config.publicUrl}/api/auth/oauth/${name}/callback/`
  const { google, github, apple, oidc } = config.oauth
  return {
    google: google && openIdConnect(async () => ({ ...googleMetadata, ...overrides.google }), google, redirectUri('google')),
    oidc: oidc && openIdConnect(discovery(oidc.issuer), oidc, redirectUri('oidc')),
    github: github && gitHub(github, redirectUri('github'), { ...githubEndpoints, ...overrides.github }),
    apple: apple && signInWithApple(apple, redirectUri('apple')),
  }
}

function openIdConnect(metadata: () => Promise<OidcMetadata>, client: ClientCredentials, redirectUri: string): Provider {
  const arctic = new OAuth2Client(client.clientId, client.clientSecret, redirectUri)
  return {
    formPost: false,
    pkce: true,
    nonce: true,
    async authorizationUrl(state, codeVerifier, nonce) {
      const { authorization_endpoint } = await metadata()
      const scopes = ['openid', 'email', 'profile']
      const url = arctic.createAuthorizationURLWithPKCE(authorization_endpoint, state, CodeChallengeMethod.S256, codeVerifier, scopes)
      url.searchParams.set('nonce', nonce)
      return url
    },
    async profile(code, { codeVerifier, nonce }) {
      const meta = await metadata()
      const tokens = await exchange(() => arctic.validateAuthorizationCode(meta.token_endpoint, code, codeVerifier ?? null))
      const profile = profileFromClaims(await verifyIdToken(read(tokens, 'id_token'), meta, client.clientId, nonce))
      if (profile.email || !meta.userinfo_endpoint) return profile
      // Some issuers put the email only in the userinfo response.
      const info = (await getJson(meta.userinfo_endpoint, read(tokens, 'access_token'))) as Record<string, unknown>
      if (info?.sub !== profile.subject) throw new OAuthFailure('invalid_id_token', 'userinfo describes another subject')
      const extra = profileFromClaims({ ...info, sub: profile.subject })
      return { ...extra, name: profile.name ?? extra.name, avatarUrl: profile.avatarUrl ?? extra.avatarUrl }
    },
  }
}

function gitHub(client: ClientCredentials, redirectUri: string, endpoints: GitHubEndpoints): Provider {
  const arctic = new OAuth2Client(client.clientId, client.clientSecret, redirectUri)
  return {
    formPost: false,
    // GitHub takes PKCE (S256) since July 2025.
    pkce: true,
    nonce: false,
    authorizationUrl: async (state, codeVerifier) =>
      arctic.createAuthorizationURLWithPKCE(endpoints.authorization, state, CodeChallengeMethod.S256, codeVerifier, ['read:user', 'user:email']),
    async profile(code, { codeVerifier }) {
      const token = read(await exchange(() => arctic.validateAuthorizationCode(endpoints.token, code, codeVerifier ?? null)), 'access_token')
      const [user, emails] = (await Promise.all([
        getJson(`${endpoints.api}/user`, token),
        getJson(`${endpoints.api}/user/emails`, token),
      ])) as [Record<string, unknown>, { email?: unknown; primary?: unknown; verified?: unknown }[]]
      if (typeof user?.id !== 'number' && typeof user?.id !== 'string')
        throw new OAuthFailure('profile_unavailable', 'GitHub /user has no id')
      const listed = Array.isArray(emails) ? emails.filter((entry) => typeof entry?.email === 'string') : []
      const verified = listed.filter((entry) => entry.verified === true)
      const chosen = verified.find((entry) => entry.primary === true) ?? verified[0]
      const email = (chosen ?? listed.find((entry) => entry.primary === true))?.email ?? user.email
      return {
        subject: String(user.id),
        email: typeof email === 'string' ? canonicalEmail(email) : null,
        emailVerified: chosen !== undefined,
        name: text(user.name) ?? text(user.login),
        avatarUrl: text(user.avatar_url),
      }
    },
  }
}

function signInWithApple(config: NonNullable<Config['oauth']['apple']>, redirectUri: string): Provider {
  const arctic = new Apple(config.clientId, config.teamId, config.keyId, pkcs8(config.privateKey), redirectUri)
  return {
    formPost: true,
    pkce: false,
    // Not sent: Apple's round trip cannot be tested here, and a nonce it did not echo would refuse every sign-in.
    nonce: false,
    async authorizationUrl(state) {
      const url = arctic.createAuthorizationURL(state, ['name', 'email'])
      url.searchParams.set('response_mode', 'form_post')
      return url
    },
    async profile(code, _kept, fields: CallbackFields): Promise<Profile> {
      const tokens = await exchange(() => arctic.validateAuthorizationCode(code))
      const profile = profileFromClaims(await verifyIdToken(read(tokens, 'id_token'), appleMetadata, config.clientId))
      return { ...profile, name: profile.name ?? appleName(fields.user) }
    },
  }
}

/** Runs a token request with a deadline and turns whatever goes wrong into an OAuthFailure. */
async function exchange(request: () => Promise<OAuth2Tokens>): Promise<OAuth2Tokens> {
  let timer: Timer | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OAuthFailure('provider_unavailable', `token endpoint silent for ${PROVIDER_TIMEOUT_MS} ms`)),
      PROVIDER_TIMEOUT_MS,
    )
  })
  try {
    const tokens = await Promise.race([request(), deadline])
    // GitHub answers a failed exchange with 200 and an `error` field.
    const error = (tokens.data as { error?: unknown }).error
    if (typeof error === 'string') throw new OAuth2RequestError(error, null, null, null)
    return tokens
  } catch (error) {
    if (error instanceof OAuthFailure) throw error
    if (error instanceof OAuth2RequestError) throw new OAuthFailure(providerCode(error.code, 'token_exchange_failed'))
    if (error instanceof ArcticFetchError)
      throw new OAuthFailure('provider_unavailable', `token endpoint unreachable: ${(error.cause as Error)?.message}`)
    const reason = error instanceof UnexpectedResponseError ? `HTTP ${error.status}` : (error as Error).message
    throw new OAuthFailure('token_exchange_failed', `token endpoint: ${reason}`)
  } finally {
    clearTimeout(timer)
  }
}

function read(tokens: OAuth2Tokens, field: 'id_token' | 'access_token'): string {
  const value = (tokens.data as Record<string, unknown>)[field]
  if (typeof value !== 'string' || !value) throw new OAuthFailure('token_exchange_failed', `token response has no ${field}`)
  return value
}

async function getJson(url: string, accessToken: string): Promise<unknown> {
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json', 'user-agent': 'ai-studio' },
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
    })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    return await res.json()
  } catch (error) {
    throw new OAuthFailure('profile_unavailable', `${url}: ${(error as Error).message}`)
  }
}

/** Apple posts the user's name once, on the first sign-in, as JSON in the `user` form field. */
function appleName(json: string | undefined): string | null {
  try {
    const name = (JSON.parse(json ?? '') as { name?: { firstName?: unknown; lastName?: unknown } }).name
    return [text(name?.firstName), text(name?.lastName)].filter(Boolean).join(' ') || null
  } catch {
    return null
  }
}

function pkcs8(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]{32,}={0,2}$/.test(body))
    throw new ConfigError('APPLE_OAUTH_PRIVATE_KEY', 'a PKCS#8 private key in PEM form (-----BEGIN PRIVATE KEY-----)')
  return Buffer.from(body, 'base64')
}
