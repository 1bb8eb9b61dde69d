// How many inference requests one user may have in progress at once (MAX_CONCURRENT_REQUESTS):
// `{ concurrencyLimit: true }` on a route counts the signed-in user, whichever of their tokens
// and API keys is used, like the rate limits. A request holds its slot until its response is
// sent or, for a stream, until the stream ends, however it ends (client gone, upstream failure,
// timeout); a request over the cap is refused with 429. An admin may set a user's cap instead
// of MAX_CONCURRENT_REQUESTS, and a key's own cap besides. With REDIS_URL the slots are shared
// by every replica (./limiter.ts).
import { Elysia } from 'elysia'
import type { Principal } from '../auth/principal'
import { HttpError } from '../http/errors'
import { perRuntime, type Runtime } from '../runtime'
import { redisOf } from '../shared/redis'
import { whenOver } from '../telemetry/facts'
import { memoryConcurrencyLimiter, redisConcurrencyLimiter } from './limiter'

/** Nobody can tell when a slot frees up; a second is what an SDK's own backoff would wait. */
const RETRY_AFTER_SECONDS = 1

const slots = new WeakMap<Request, () => Promise<void>>()

/** The runtime's one concurrency limiter: on Redis with REDIS_URL (shared by every replica), else in memory. */
const concurrencyLimiterOf = perRuntime((rt) => {
  const link = redisOf(rt)
  return link ? redisConcurrencyLimiter(link, rt.config.redis!.failure) : memoryConcurrencyLimiter()
})

export const concurrencyLimits = (rt: Runtime) => {
  const limiter = concurrencyLimiterOf(rt)
  return new Elysia({ name: 'concurrency-limits' }).macro({
    concurrencyLimit(enabled: boolean) {
      if (!enabled) return
      return {
        // After validation: a request its schema refuses takes no slot.
        async beforeHandle(ctx) {
          const principal = (ctx as { principal?: Principal }).principal
          if (!principal) return
          // The user's cap (an admin's, else MAX_CONCURRENT_REQUESTS), then the key's own if it has one.
          const userLimit = principal.concurrency?.user ?? rt.config.maxConcurrentRequests
          const keyLimit = principal.apiKeyId ? principal.concurrency?.key : null
          const held: (() => Promise<void>)[] = []
          const take = async (holder: string, limit: number, who: string) => {
            const admission = await limiter.acquire(holder, limit)
            if (admission.allowed) return void held.push(admission.release)
            await Promise.all(held.map((release) => release()))
            throw new HttpError(429, `Too many requests in progress: at most ${limit} at a time per ${who}; retry when one has ended`, {
              code: 'too_many_concurrent_requests',
              headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
            })
          }
          if (userLimit) await take(`user:${principal.userId}`, userLimit, 'user')
          if (keyLimit) await take(`key:${principal.apiKeyId}`, keyLimit, 'API key')
          if (held.length) slots.set(ctx.request, () => Promise.all(held.map((release) => release())).then(() => undefined))
        },
        // Runs for errors too, before the response is sent (`afterResponse` would come a tick after
        // it, so a client that sends its next request at once could be refused). A reply waits
        // until its slot is free on every replica (Redis has removed it); a stream still being
        // written gives its slot back when it ends.
        async mapResponse({ request }) {
          const release = slots.get(request)
          let releasing: Promise<void> | undefined
          if (release) whenOver(request, () => void (releasing = release()))
          await releasing
        },
      }
    },
  })
}
