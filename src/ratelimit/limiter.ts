// The rate limiter behind one interface: an exact sliding-window log kept in memory now;
// a shared (Redis) implementation for several replicas can stand beside it.
import { MINUTE } from '../http/dates'
import { SlidingCounter } from '../http/sliding-window'

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
