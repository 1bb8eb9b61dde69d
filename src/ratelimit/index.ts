// Per-minute limits per route group: `{ rateLimit: 'chat' }` on a route counts the signed-in
// user, whichever of their tokens and API keys is used (so minting keys adds no budget);
// `'auth'` (sign-in endpoints, anonymous) counts the client address. Requests that no one signed
// in for count against the `anonymous` limit of their address (./anonymous.ts). An API key may
// also have limits of its own, per group and in tokens per minute, counted besides its user's
// (./keys.ts). Every limited response carries X-RateLimit-* (of the stricter limit); a refusal
// is a 429 and a rate_limit threat.
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
import type { KeyRateLimitGroup } from '../db/stores/keys'
import { checkTokensPerMinute, keyLimitsOf, recordTokens } from './keys'

/** The groups of routes, each with its own limit; an API key may have limits of its own in those that count a signed-in caller. */
export type RateLimitGroup = KeyRateLimitGroup | 'auth' | 'anonymous'

const WINDOW_MS = MINUTE

/** Who is counted: the signed-in user (and the API key used, if any), or the client address. */
export type Caller = { userId?: string; apiKeyId?: string; address?: string }

/** The limiter's key for a caller: the user, or the address (IPv6 by its /64) of an anonymous one. */
export const callerKey = (userId: string | undefined, address: string) => (userId ? `user:${userId}` : `addr:${addressKey(address)}`)

/** The runtime's one rate limiter, shared by every group: on Redis with REDIS_URL (shared by every replica), else in memory. */
export const limiterOf = perRuntime((rt) => {
  const link = redisOf(rt)
  return link ? redisLimiter(link, rt.config.redis!.failure) : memoryLimiter()
})

/** Counts one request of `who` against the group's limit (the server's, or `limit`), unless it is refused. */
export const hitLimit = (rt: Runtime, group: RateLimitGroup, who: string, limit = rt.config.rateLimits[group]) =>
  limiterOf(rt).hit(`${group}|${who}`, limit, WINDOW_MS)

/**
 * Counts one request of `who` against the group's limit (the server's, or `limit`): past it,
 * refuses the request (see `refuse`; `whose` says whose limit it is in the message).
 */
async function countRequest(rt: Runtime, group: RateLimitGroup, who: string, headersOut: Record<string, unknown>, caller: Caller, limit?: number, whose = ''): Promise<Verdict> {
  const verdict = await hitLimit(rt, group, who, limit)
  if (!verdict.allowed) refuse(rt, group, who, verdict, headersOut, caller, whose)
  return verdict
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
  whose = '',
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
  throw new HttpError(429, `Rate limit of ${verdict.limit} requests per minute${whose} exceeded; retry in ${retryAfter} s`, {
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
          // The guard, whose transform came first, has recorded the signed-in caller in the facts.
          const { userId, apiKeyId } = factsOf(ctx.request)
          const address = clientAddress(ctx.request, ctx.server, rt.config.trustProxy)
          const caller = { userId, apiKeyId, address }
          const verdicts: Verdict[] = []
          // The key's own limits first: a key held back by them takes nothing from its user's limit.
          const keyLimits = apiKeyId ? keyLimitsOf(ctx.request) : undefined
          if (keyLimits) {
            await checkTokensPerMinute(rt, group, ctx.request, apiKeyId!, keyLimits, ctx.set.headers, caller)
            const limit = keyLimits.rateLimits?.[group as KeyRateLimitGroup]
            if (limit) verdicts.push(await countRequest(rt, group, `key:${apiKeyId}`, ctx.set.headers, caller, limit, ' of this API key'))
          }
          // Only sign-in endpoints count anonymous callers here (the anonymous limit counts the rest);
          // an address-keyed limit needs an address, and in-process calls (app.handle) have none.
          if (rt.config.rateLimits[group] && (userId || (group === 'auth' && address !== undefined)))
            verdicts.push(await countRequest(rt, group, callerKey(userId, address!), ctx.set.headers, caller))
          // The headers tell of the stricter limit.
          const strictest = verdicts.reduce<Verdict | undefined>((least, verdict) => (least && least.remaining <= verdict.remaining ? least : verdict), undefined)
          if (strictest) Object.assign(ctx.set.headers, limitHeaders(strictest))
        },
        // The tokens of a request of a key with a tokens-per-minute limit, counted when it ends.
        // (An `async` function: Elysia awaits only those, and would send another's promise as the body.)
        async mapResponse({ request }) {
          await recordTokens(rt, request)
        },
      }
    },
  })
