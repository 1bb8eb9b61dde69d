// Reading a request body has a deadline (BODY_TIMEOUT_MS): a client that trickles its body would
// otherwise hold a connection, and the handler waiting for it, for as long as it likes. One timer
// sweeps every read in progress: timers per request cost measurable CPU on the hot path (see
// chat/watchdog.ts).
import { HttpError } from './errors'

export const bodyTimedOut = () =>
  new HttpError(408, 'The request body did not arrive in time', {
    code: 'body_timeout',
    // The rest of the body may still be on its way: end the connection rather than read on.
    headers: { connection: 'close' },
  })

type Read = { since: number; expire: () => void }

export class BodyDeadline {
  private readonly reads = new Set<Read>()
  private readonly timer: Timer

  /** A read fails between `timeoutMs` and `timeoutMs` plus one sweep (≤ 1 s, ≤ a quarter of it) after it began. */
  constructor(private readonly timeoutMs: number) {
    this.timer = setInterval(() => this.sweep(), Math.min(1000, Math.max(10, timeoutMs / 4)))
    this.timer.unref()
  }

  /** `read`'s result, or a 408 HttpError once the deadline has passed. */
  async within<T>(read: Promise<T>): Promise<T> {
    let entry: Read | undefined
    const expired = new Promise<never>((_, reject) => {
      entry = { since: performance.now(), expire: () => reject(bodyTimedOut()) }
    })
    this.reads.add(entry!)
    try {
      return await Promise.race([read, expired])
    } finally {
      this.reads.delete(entry!)
    }
  }

  stop() {
    clearInterval(this.timer)
  }

  private sweep() {
    const now = performance.now()
    for (const read of this.reads)
      if (now - read.since >= this.timeoutMs) {
        this.reads.delete(read)
        read.expire()
      }
  }
}
