// Per-minute limits per route group: `{ rateLimit: 'chat' }` on a route counts the signed-in
// user, whichever of their tokens and API keys is used (so minting keys adds no budget);
// `'auth'` (sign-in endpoints, anonymous) counts the client address.
// Every limited response carries X-RateLimit-*; a refusal is a 429 and a rate_limit threat.
import { Elysia } from 'elysia'
import { principalOf } from '../auth/guard'
import { addressKey, clientAddress } from '../http/client-address'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'

export type RateLimitGroup = 'chat' | 'dashboard' | 'models' | 'auth'

const WINDOW_MS = 60_000

export const rateLimits = (rt: Runtime) =>
  new Elysia({ name: 'rate-limits' }).macro({
    rateLimit(group: RateLimitGroup) {
      return {
        // In `transform`, after the guard (routes list `auth` before `rateLimit`) and before the body is
        // validated: invalid requests count against the limit too.
        async transform(ctx) {
          const limit = rt.config.rateLimits[group]
          if (!limit) return
          const principal = principalOf(ctx.request)
          // Only sign-in endpoints count anonymous callers (an anonymous /v1/health is not limited).
          if (!principal && group !== 'auth') return
          const address = clientAddress(ctx.request, ctx.server, rt.config.trustProxy)
          // An address-keyed limit needs an address; in-process calls (app.handle) have none.
          if (!principal && address === undefined) return
          const who = principal ? `user:${principal.userId}` : `addr:${addressKey(address!)}`
          const verdict = await rt.limiter.hit(`${group}|${who}`, limit, WINDOW_MS)
          const headers = {
            'x-ratelimit-limit': String(verdict.limit),
            'x-ratelimit-remaining': String(verdict.remaining),
            'x-ratelimit-reset': String(Math.ceil(verdict.resetAt / 1000)),
          }
          Object.assign(ctx.set.headers, headers)
          if (verdict.allowed) return
          rt.threats.observe({
            type: 'rate_limit',
            key: `${group}|${who}`,
            userId: principal?.userId,
            apiKeyId: principal?.apiKeyId,
            address,
            detail: `${group} limit of ${limit} requests per minute exceeded by ${who}`,
          })
          const retryAfter = Math.max(1, Math.ceil((verdict.resetAt - Date.now()) / 1000))
          throw new HttpError(429, `Rate limit of ${limit} requests per minute exceeded; retry in ${retryAfter} s`, {
            code: 'rate_limit_exceeded',
            headers: { ...headers, 'retry-after': String(retryAfter) },
          })
        },
      }
    },
  })
