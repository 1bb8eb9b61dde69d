// OpenID Connect pieces shared by Google, Apple and any issuer: the discovery document,
// ID-token verification against the provider's published keys, and reading a profile from claims.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose'
import { HOUR } from '../../http/dates'
import { sameHash } from '../crypto'
import { OAuthFailure, type Profile } from './provider'

export type OidcMetadata = {
  /** Google signs with either spelling of its issuer, hence a list. */
  issuer: string | string[]
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
  userinfo_endpoint?: string
}

export const PROVIDER_TIMEOUT_MS = 10_000
const DISCOVERY_TTL_MS = HOUR
const trimSlash = (url: string) => url.replace(/\/+$/, '')

async function fetchMetadata(issuer: string): Promise<OidcMetadata> {
  const url = `${trimSlash(issuer)}/.well-known/openid-configuration`
  let doc: Record<string, unknown>
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    doc = (await res.json()) as Record<string, unknown>
  } catch (error) {
    throw new OAuthFailure('provider_unavailable', `OIDC discovery at ${url} failed: ${(error as Error).message}`)
  }
  const required = ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const
  const missing = required.filter((key) => typeof doc?.[key] !== 'string')
  if (missing.length) throw new OAuthFailure('provider_unavailable', `OIDC discovery at ${url} lacks ${missing.join(', ')}`)
  if (trimSlash(doc.issuer as string) !== trimSlash(issuer))
    throw new OAuthFailure('provider_unavailable', `OIDC discovery at ${url} names another issuer: ${doc.issuer}`)
  return {
    issuer: doc.issuer as string,
    authorization_endpoint: doc.authorization_endpoint as string,
    token_endpoint: doc.token_endpoint as string,
    jwks_uri: doc.jwks_uri as string,
    userinfo_endpoint: typeof doc.userinfo_endpoint === 'string' ? doc.userinfo_endpoint : undefined,
  }
}

/** The issuer's metadata, fetched on first use, kept for an hour, fetched again after a failure. */
export function discovery(issuer: string): () => Promise<OidcMetadata> {
  let cached: { at: number; metadata: Promise<OidcMetadata> } | undefined
  return () => {
    if (!cached || Date.now() - cached.at > DISCOVERY_TTL_MS) {
      const entry = { at: Date.now(), metadata: fetchMetadata(issuer) }
      entry.metadata.catch(() => {
        if (cached === entry) cached = undefined
      })
      cached = entry
    }
    return cached.metadata
  }
}

// One key set per JWKS address: jose caches the keys and refetches when an unknown key id appears.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>()

/** Checks an ID token's signature, issuer, audience and, when one was sent, nonce. */
export async function verifyIdToken(idToken: string, metadata: OidcMetadata, clientId: string, nonce?: string): Promise<JWTPayload> {
  let keys = keySets.get(metadata.jwks_uri)
  if (!keys) keySets.set(metadata.jwks_uri, (keys = createRemoteJWKSet(new URL(metadata.jwks_uri), { timeoutDuration: 5000 })))
  let claims: JWTPayload
  try {
    claims = (await jwtVerify(idToken, keys, { issuer: metadata.issuer, audience: clientId })).payload
  } catch (error) {
    // jose's own errors are about the token; anything else is the key set being out of reach.
    const unreachable = error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)
    throw new OAuthFailure(unreachable ? 'provider_unavailable' : 'invalid_id_token', `ID token: ${(error as Error).message}`)
  }
  if (typeof claims.sub !== 'string' || !claims.sub) throw new OAuthFailure('invalid_id_token', 'ID token has no subject')
  if (Array.isArray(claims.aud) && claims.aud.length > 1 && claims.azp !== clientId)
    throw new OAuthFailure('invalid_id_token', 'ID token was issued to another party')
  // A code stolen from another sign-in carries that sign-in's nonce, not the one this browser keeps.
  if (nonce !== undefined && (typeof claims.nonce !== 'string' || !sameHash(claims.nonce, nonce)))
    throw new OAuthFailure('invalid_id_token', 'ID token was issued for another sign-in (nonce)')
  return claims
}

/** A claim's text, trimmed, or null when it is missing or blank. */
export const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : null)

export function profileFromClaims(claims: JWTPayload): Profile {
  const fullName = [text(claims.given_name), text(claims.family_name)].filter(Boolean).join(' ')
  return {
    subject: claims.sub!,
    email: text(claims.email)?.toLowerCase() ?? null,
    // Apple sends the flag as a string.
    emailVerified: claims.email_verified === true || claims.email_verified === 'true',
    name: text(claims.name) ?? (fullName || null),
    avatarUrl: text(claims.picture),
  }
}
