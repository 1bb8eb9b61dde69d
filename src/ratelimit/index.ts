// Per-minute limits per route group: `{ rateLimit: 'chat' }` on a route counts the signed-in
// user, whichever of their tokens and API keys is used (so minting keys adds no budget);
// `'auth'` (sign-in endpoints, anonymous) counts the client address. Requests that no one signed
// in for count against the `anonymous` limit of their address (./anonymous.ts).
// Every limited response carries X-RateLimit-*; a refusal is a 429 and a rate_limit threat.
// With REDIS_URL the counts are shared by every replica (./limiter.ts).
import { Elysia } from 'elysia'
import { addressKey, clientAddress } from '../http/client-address'
import { MINUTE } from '../http/dates'
import { HttpError } from '../http/errors'
import { perRuntime, type Runtime } from '../runtime'
import { redisOf } from '../shared/redis'
import { factsOf } from '../telemetry/facts'
import { threatMonitorOf } from '../threats'
import { memoryLimiter, redisLimiter, type Verdict } from './limiter'

export type RateLimitGroup = 'chat' | 'dashboard' | 'models' | 'embeddings' | 'images' | 'auth' | 'anonymous'

const WINDOW_MS = MINUTE

/** Who is counted: the signed-in user (and the API key used, if any), or the client address. */
type Caller = { userId?: string; apiKeyId?: string; address?: string }

/** The limiter's key for a caller: the user, or the address (IPv6 by its /64) of an anonymous one. */
export const callerKey = (userId: string | undefined, address: string) => (userId ? `user:${userId}` : `addr:${addressKey(address)}`)

/** The runtime's one rate limiter, shared by every group: on Redis with REDIS_URL (shared by every replica), else in memory. */
export const limiterOf = perRuntime((rt) => {
  const link = redisOf(rt)
  return link ? redisLimiter(link, rt.config.redis!.failure) : memoryLimiter()
})

/** Counts one request of `who` against the group's limit, unless it is refused. */
export const hitLimit = (rt: Runtime, group: RateLimitGroup, who: string) =>
  limiterOf(rt).hit(`${group}|${who}`, rt.config.rateLimits[group], WINDOW_MS)

/**
 * Counts one request of `who` against the group's limit: sets the X-RateLimit-* headers, and past
 * the limit refuses it (see `refuse`).
 */
export async function countRequest(
  rt: Runtime,
  group: RateLimitGroup,
  who: string,
  headersOut: Record<string, unknown>,
  caller: Caller,
): Promise<void> {
  const verdict = await hitLimit(rt, group, who)
  if (verdict.allowed) Object.assign(headersOut, limitHeaders(verdict))
  else refuse(rt, group, who, verdict, headersOut, caller)
}

const limitHeaders = (verdict: Verdict) => ({
  'x-ratelimit-limit': String(verdict.limit),
  'x-ratelimit-remaining': String(verdict.remaining),
  'x-ratelimit-reset': String(Math.ceil(verdict.resetAt / 1000)),
})

/** A request past its limit: records a rate_limit threat and throws the 429 (with Retry-After). */
export function refuse(
  rt: Runtime,
  group: RateLimitGroup,
  who: string,
  verdict: Verdict,
  headersOut: Record<string, unknown>,
  caller: Caller,
): never {
  const headers = limitHeaders(verdict)
  Object.assign(headersOut, headers)
  threatMonitorOf(rt).observe({
    type: 'rate_limit',
    key: `${group}|${who}`,
    userId: caller.userId,
    apiKeyId: caller.apiKeyId,
    address: caller.address,
    detail: `${group} limit of ${verdict.limit} requests per minute exceeded by ${who}`,
  })
  const retryAfter = Math.max(1, Math.ceil((verdict.resetAt - Date.now()) / 1000))
  throw new HttpError(429, `Rate limit of ${verdict.limit} requests per minute exceeded; retry in ${retryAfter} s`, {
    code: 'rate_limit_exceeded',
    headers: { ...headers, 'retry-after': String(retryAfter) },
  })
}

export const rateLimits = (rt: Runtime) =>
  new Elysia({ name: 'rate-limits' }).macro({
    rateLimit(group: RateLimitGroup) {
      return {
        // In `transform`, after the guard (routes list `auth` before `rateLimit`) and before the body is
        // validated: invalid requests count against the limit too.
        async transform(ctx) {
          if (!rt.config.rateLimits[group]) return
          // The guard, whose transform came first, has recorded the signed-in caller in the facts.
          const { userId, apiKeyId } = factsOf(ctx.request)
          // Only sign-in endpoints count anonymous callers here (the anonymous limit counts the rest).
          if (!userId && group !== 'auth') return
          const address = clientAddress(ctx.request, ctx.server, rt.config.trustProxy)
          // An address-keyed limit needs an address; in-process calls (app.handle) have none.
          if (!userId && address === undefined) return
          await countRequest(rt, group, callerKey(userId, address!), ctx.set.headers, { userId, apiKeyId, address })
        },
      }
    },
  })
