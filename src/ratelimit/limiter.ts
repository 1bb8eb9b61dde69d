// The rate limiter behind one interface: an exact sliding-window log kept in memory now;
// a shared (Redis) implementation for several replicas can stand beside it.

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
 * Keeps, per key, the times of the requests let through in the last window. The check and
 * the count happen in one synchronous step, so N+k concurrent requests let exactly N through.
 */
export function memoryLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { times: number[]; windowMs: number }>()
  const sweep = setInterval(() => {
    const t = now()
    for (const [key, entry] of windows) if ((entry.times.at(-1) ?? 0) + entry.windowMs <= t) windows.delete(key)
  }, 60_000)
  sweep.unref?.()

  return {
    async hit(key, limit, windowMs) {
      const t = now()
      let entry = windows.get(key)
      if (!entry) windows.set(key, (entry = { times: [], windowMs }))
      const times = entry.times
      let expired = 0
      while (expired < times.length && times[expired]! + windowMs <= t) expired++
      if (expired) times.splice(0, expired)
      const allowed = times.length < limit
      if (allowed) times.push(t)
      return {
        allowed,
        limit,
        remaining: Math.max(0, limit - times.length),
        resetAt: (times[0] ?? t) + windowMs,
      }
    },
    close: () => clearInterval(sweep),
  }
}
