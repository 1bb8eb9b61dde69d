// Who is calling: the user behind a JWT access token or an API key, checked against the store
// (through ./principal-cache.ts: at most a second old, and forgotten at once by every change
// that takes power away) so that deactivation, revocation and role changes apply at once.
import type { KeyLimits, Scope } from '../db/stores/keys'
import type { ApiKeyHolder, Role, SessionHolder } from './store'
import { principalCacheOf } from './principal-cache'
import type { Runtime } from '../runtime'
import { sameHash, sha256 } from './crypto'
import { originOf, recordAudit, type RequestContext } from '../audit/service'
import { rememberKeyLimits } from '../ratelimit/keys'

export type { Role }

export type Principal = {
  userId: string
  role: Role
  email: string
  sessionId?: string
  apiKeyId?: string
  /** What an API key may do; a session (and a key made before scopes existed) may do all its user may. */
  scopes?: readonly Scope[]
  /** The models an API key may use (names or globs); every model when left out. */
  models?: readonly string[]
  /** When an API key stops working (ms); never when left out. */
  expiresAt?: number
  /** Caps on requests in progress an admin set: the user's (instead of MAX_CONCURRENT_REQUESTS; 0: none) and the key's own. */
  concurrency?: { user: number | null; key: number | null }
  /** An API key's own rate limits per group and tokens per minute, applied besides its user's (src/ratelimit/). */
  keyLimits?: KeyLimits
}

export const API_KEY_PREFIX = 'sk-studio-'

const sessionGrants = (holder: SessionHolder) => holder.isActive && holder.sessionRevokedAt === null

export async function principalForSession(rt: Runtime, userId: string, sessionId: string): Promise<Principal | undefined> {
  const holder = await principalCacheOf(rt).remember(`session:${userId}:${sessionId}`, () => rt.store.accounts.sessionHolder(userId, sessionId), sessionGrants)
  if (!holder || !sessionGrants(holder)) return undefined
  return { userId: holder.userId, role: holder.role, email: holder.email, sessionId, ...concurrencyOf(holder.maxConcurrentRequests, null) }
}

/** Whether the key counts (its expiry is checked at each use, the cached holder's included). */
const keyGrants = (holder: ApiKeyHolder) => holder.isActive && holder.revokedAt === null

/** `context`: the request the key came with, for the audit entry of its first use. */
export async function principalForApiKey(rt: Runtime, key: string, now = Date.now(), context?: RequestContext): Promise<Principal | undefined> {
  const hash = sha256(key)
  const holder = await principalCacheOf(rt).remember(`key:${hash}`, () => rt.store.accounts.apiKeyHolder(hash), keyGrants, now)
  if (!holder || !sameHash(holder.keyHash, hash)) return undefined
  if (!keyGrants(holder) || (holder.expiresAt !== null && holder.expiresAt <= now)) return undefined
  // Last use is kept to the minute: one write a minute per key, not one per request. It is
  // bookkeeping, never a reason to fail or delay the request.
  if (holder.lastUsedAt === null) {
    const origin = context ? originOf(rt, context, holder) : { actorUserId: holder.userId, actorEmail: holder.email, ip: null, requestId: null }
    recordAudit(rt, origin, { action: 'api_key.first_used', targetType: 'api_key', targetId: holder.keyId })
  }
  if ((holder.lastUsedAt ?? 0) < now - 60_000) {
    holder.lastUsedAt = now // the remembered holder too
    rt.store.accounts.recordApiKeyUse(holder.keyId, now)
  }
  const principal: Principal = {
    userId: holder.userId,
    role: holder.role,
    email: holder.email,
    apiKeyId: holder.keyId,
    ...(holder.scopes ? { scopes: holder.scopes } : {}),
    ...(holder.models ? { models: holder.models } : {}),
    ...(holder.expiresAt !== null ? { expiresAt: holder.expiresAt } : {}),
    ...concurrencyOf(holder.maxConcurrentRequests, holder.keyMaxConcurrentRequests),
    ...(holder.keyLimits ? { keyLimits: holder.keyLimits } : {}),
  }
  // For the rate limiter, which counts in `transform`, before the route's principal is resolved.
  if (context && holder.keyLimits) rememberKeyLimits(context.request, holder.keyLimits)
  return principal
}

/** The admin-set caps, when there are any (most principals have none). */
const concurrencyOf = (user: number | null, key: number | null) => (user === null && key === null ? {} : { concurrency: { user, key } })

/** Whether the principal may act in the scope: a session (or a full-power key) as its user's role allows, a key as its scopes say. */
export function mayAct(principal: Principal, scope: Scope): boolean {
  if (scope === 'admin' && principal.role !== 'admin') return false
  return principal.scopes === undefined || principal.scopes.includes(scope)
}
