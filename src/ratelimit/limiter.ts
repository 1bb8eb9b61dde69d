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
 * Keeps, per key, the times of the requests let through in the last window, oldest first, in
 * a queue whose expired head is dropped as time passes (amortised O(1) per request). The check
 * and the count happen in one synchronous step, so N+k concurrent requests let exactly N through.
 */
export function memoryLimiter(now: () => number = Date.now): RateLimiter {
  type Window = { times: number[]; head: number; windowMs: number }
  const windows = new Map<string, Window>()
  const sweep = setInterval(() => {
    const t = now()
    for (const [key, entry] of windows) if ((entry.times.at(-1) ?? 0) + entry.windowMs <= t) windows.delete(key)
  }, 60_000)
  sweep.unref?.()

  return {
    async hit(key, limit, windowMs) {
      const t = now()
      let entry = windows.get(key)
      if (!entry) windows.set(key, (entry = { times: [], head: 0, windowMs }))
      const { times } = entry
      while (entry.head < times.length && times[entry.head]! + windowMs <= t) entry.head++
      if (entry.head > 64 && entry.head * 2 > times.length) {
        times.splice(0, entry.head)
        entry.head = 0
      }
      const inWindow = times.length - entry.head
      const allowed = inWindow < limit
      if (allowed) times.push(t)
      return {
        allowed,
        limit,
        remaining: Math.max(0, limit - inWindow - (allowed ? 1 : 0)),
        resetAt: (times[entry.head] ?? t) + windowMs,
      }
    },
    close: () => clearInterval(sweep),
  }
}
