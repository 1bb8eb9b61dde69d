// The rate limiter behind one interface: an exact sliding-window log per key, kept in this
// process's memory (one replica), or in Redis (every replica sharing REDIS_URL counts together).
import { MINUTE } from '../http/dates'
import { SlidingCounter } from '../http/sliding-window'
import { sharedOrLocal } from '../shared/fallback'
import type { RedisLink, RedisSettings } from '../shared/redis'
import { uniqueIds } from '../shared/unique-ids'

export type Verdict = {
  allowed: boolean
  limit: number
  remaining: number
  /** When the next slot frees up (ms since the epoch). */
  resetAt: number
}

export interface RateLimiter {
  /** Counts one request for `key` against `limit` per `windowMs`, unless it is refused. */
  hit(key: string, limit: number, windowMs: number): Promise<Verdict>
  close(): void
}

/**
 * An exact sliding-window log per key, in memory (http/sliding-window.ts). The check and the
 * count happen in one synchronous step, so N+k concurrent requests let exactly N through.
 */
export function memoryLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new SlidingCounter(now)
  const sweep = setInterval(() => windows.sweep(), MINUTE)
  sweep.unref?.()

  return {
    async hit(key, limit, windowMs) {
      const { allowed, count, resetAt } = windows.admit(key, windowMs, limit)
      return { allowed, limit, remaining: Math.max(0, limit - count), resetAt }
    },
    close: () => clearInterval(sweep),
  }
}

/**
 * The same log in a sorted set per key (members: one per request, scored by its time), checked
 * and counted by one script, which Redis runs alone: N+k concurrent requests on any number of
 * replicas let exactly N through. Times are Redis's clock (TIME), not the replicas': their
 * clocks differ, and a window measured against two clocks would let a fast one count early
 * requests as expired. The script answers how long until the oldest request leaves the window,
 * which each replica adds to its own clock for the headers. The key expires with its window.
 *
 * KEYS[1] the log; ARGV limit, window (ms), a member no other request uses.
 * Returns { allowed (1|0), count after, ms until the oldest request leaves the window }.
 */
const SLIDING_WINDOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  count, allowed = count + 1, 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
return { allowed, count, (oldest and tonumber(oldest) or now) + window - now }
`

/**
 * Limits shared by every replica on REDIS_URL; while Redis cannot be reached, REDIS_FAILURE
 * decides (shared/fallback.ts): `local` counts in `local`, this replica's memory, until Redis
 * is back; `closed` refuses with 503.
 */
export function redisLimiter(link: RedisLink, failure: RedisSettings['failure'], local: RateLimiter = memoryLimiter()): RateLimiter {
  // Members only need to differ from every other request's: this limiter's id and a counter.
  const member = uniqueIds()
  return {
    hit: (key, limit, windowMs) =>
      sharedOrLocal(
        link,
        failure,
        async () => {
          const [allowed, count, resetInMs] = (await link.script(SLIDING_WINDOW, [link.key(`ratelimit:${key}`)], [limit, windowMs, member()])) as number[]
          return { allowed: allowed === 1, limit, remaining: Math.max(0, limit - count!), resetAt: Date.now() + resetInMs! }
        },
        () => local.hit(key, limit, windowMs),
      ),
    close: () => local.close(),
  }
}
