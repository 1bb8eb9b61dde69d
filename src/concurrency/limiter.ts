// The concurrency limiter behind one interface: how many requests each key has in progress,
// counted in memory now; a shared (Redis) implementation for several replicas can stand beside it.

export type Admission = {
  allowed: boolean
  limit: number
  /** Requests the key has in progress, this one included when it was let in. */
  active: number
  /** Gives the slot back; only the first call counts, so every way a request ends may call it. */
  release(): void
}

export interface ConcurrencyLimiter {
  /** Takes one of `limit` slots for `key`, unless all are taken. */
  acquire(key: string, limit: number): Promise<Admission>
  close(): void
}

const nothingToRelease = () => {}

/** The check and the count happen in one synchronous step, so N+k concurrent requests let exactly N in. */
export function memoryConcurrencyLimiter(): ConcurrencyLimiter {
  const active = new Map<string, number>()
  return {
    async acquire(key, limit) {
      const taken = active.get(key) ?? 0
      if (taken >= limit) return { allowed: false, limit, active: taken, release: nothingToRelease }
      active.set(key, taken + 1)
      let released = false
      const release = () => {
        if (released) return
        released = true
        const left = active.get(key)! - 1
        if (left > 0) active.set(key, left)
        else active.delete(key)
      }
      return { allowed: true, limit, active: taken + 1, release }
    },
    close: () => active.clear(),
  }
}
