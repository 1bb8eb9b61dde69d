// Aborts upstream requests that have been silent for longer than UPSTREAM_TIMEOUT_MS, before
// their first message or between two. One timer sweeps them all: timers per request (set,
// cleared) cost about 15 % of a streamed request's CPU in the gateway benchmark.
import { Aborted } from './aborted'

export type Watched = { controller: AbortController; lastActivityAt: number }

export class Watchdog {
  private readonly watched = new Set<Watched>()
  private readonly timer: Timer

  /** A request is aborted between `timeoutMs` and `timeoutMs` plus one sweep (≤ 1 s, ≤ a quarter of it) after it went silent. */
  constructor(private readonly timeoutMs: number) {
    this.timer = setInterval(() => this.sweep(), Math.min(1000, Math.max(10, timeoutMs / 4)))
    this.timer.unref()
  }

  /** Watches a request that has been waiting since `since` (performance.now()). */
  watch(controller: AbortController, since: number): Watched {
    const entry = { controller, lastActivityAt: since }
    this.watched.add(entry)
    return entry
  }

  forget(entry: Watched) {
    this.watched.delete(entry)
  }

  stop() {
    clearInterval(this.timer)
  }

  private sweep() {
    const now = performance.now()
    for (const entry of this.watched)
      if (now - entry.lastActivityAt >= this.timeoutMs) {
        this.watched.delete(entry)
        entry.controller.abort(new Aborted('timeout'))
      }
  }
}
