// The one sliding-window counter: events per key over the last `windowMs`, for the rate limiter
// (ratelimit/limiter.ts) and the threat monitor (threats/monitor.ts). Each key keeps the times
// of its events, oldest first, in a queue whose expired head is dropped as time passes
// (amortised O(1) per event).

type Log = { times: number[]; head: number; windowMs: number }

export class SlidingCounter {
  private readonly logs = new Map<string, Log>()

  /** Past `maxKeys` keys, the oldest key is dropped for each new one. */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxKeys = Infinity,
  ) {}

  /** The key's log without the events that have left the window; undefined for a key not held. */
  private live(key: string, windowMs: number, t: number): Log | undefined {
    const log = this.logs.get(key)
    if (!log) return undefined
    while (log.head < log.times.length && log.times[log.head]! + windowMs <= t) log.head++
    if (log.head > 64 && log.head * 2 > log.times.length) {
      log.times.splice(0, log.head)
      log.head = 0
    }
    return log
  }

  private open(key: string, windowMs: number, t: number): Log {
    let log = this.live(key, windowMs, t)
    if (!log) {
      if (this.logs.size >= this.maxKeys) this.logs.delete(this.logs.keys().next().value!)
      this.logs.set(key, (log = { times: [], head: 0, windowMs }))
    }
    return log
  }

  /**
   * Counts one event unless `limit` are already in the window. The check and the count happen
   * in one synchronous step, so N+k concurrent callers let exactly N through. `count` is the
   * count after; `resetAt` is when the oldest event leaves the window.
   */
  admit(key: string, windowMs: number, limit: number): { allowed: boolean; count: number; resetAt: number } {
    const t = this.now()
    const log = this.open(key, windowMs, t)
    const allowed = log.times.length - log.head < limit
    if (allowed) log.times.push(t)
    return { allowed, count: log.times.length - log.head, resetAt: (log.times[log.head] ?? t) + windowMs }
  }

  /**
   * Counts one event, remembering at most `cap` of them (for callers to whom counts past `cap`
   * change nothing), so a flood costs O(1) per event. Returns the count.
   */
  add(key: string, windowMs: number, cap = Infinity): number {
    const t = this.now()
    const log = this.open(key, windowMs, t)
    log.times.push(t)
    if (log.times.length - log.head > cap) log.head++
    return log.times.length - log.head
  }

  count(key: string, windowMs: number): number {
    const log = this.live(key, windowMs, this.now())
    return log ? log.times.length - log.head : 0
  }

  forget(key: string) {
    this.logs.delete(key)
  }

  forgetWhere(matches: (key: string) => boolean) {
    for (const key of this.logs.keys()) if (matches(key)) this.logs.delete(key)
  }

  /** Drops the keys with no event left in `windowMs`, or else in the window each key was opened with. */
  sweep(windowMs?: number) {
    const t = this.now()
    for (const [key, log] of this.logs) if ((log.times.at(-1) ?? 0) + (windowMs ?? log.windowMs) <= t) this.logs.delete(key)
  }
}
