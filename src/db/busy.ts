// What the server does when another process (a backup, the CLI, a second server) holds
// SQLite's write lock. SQLite makes a writer wait for it synchronously, for up to
// busy_timeout, and the server has one thread: so the server's connection waits only a few
// milliseconds, and a write that still finds the lock taken fails with SQLITE_BUSY. That
// failure becomes a DatabaseBusyError, a 503 with Retry-After, wherever it happens; writes
// that matter retry it asynchronously (retryWhileBusy), writes that can wait are queued
// (see sqlite/deferred.ts and the request log's writer).
import { HttpError } from '../http/errors'

/** How long a statement of the server may block the event loop waiting for another process's lock. */
export const SERVER_BUSY_TIMEOUT_MS = 5
/** Command-line tools and start-up have no one else to serve: they may wait for a lock that long. */
export const COMMAND_BUSY_TIMEOUT_MS = 5_000
/** How long a sign-in keeps retrying a write before it answers 503 (under the 1 s the client is promised). */
export const SIGN_IN_RETRY_MS = 500
/**
 * How long shutdown keeps trying to write each queue (the request log, then the deferred
 * writes) while another process holds the lock: both, after SHUTDOWN_TIMEOUT_MS (8 s) and the
 * streams' endings, fit in Docker's 10 s stop grace period.
 */
export const SHUTDOWN_RETRY_MS = 300

/** The database is locked by someone else: 503, try again in a second. */
export class DatabaseBusyError extends HttpError {
  constructor(cause?: unknown) {
    super(503, 'The database is busy (another process is writing to it); try again in a moment', {
      code: 'database_busy',
      headers: { 'retry-after': '1' },
    })
    this.cause = cause
  }
}

/** SQLITE_BUSY and SQLITE_LOCKED (with their extended codes): another connection has the lock. */
export function isBusy(error: unknown): boolean {
  if (error instanceof DatabaseBusyError) return true
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code)
}

/** The error to throw: a busy database becomes a DatabaseBusyError, anything else is left as it is. */
export const busyAware = (error: unknown): unknown =>
  isBusy(error) && !(error instanceof DatabaseBusyError) ? new DatabaseBusyError(error) : error

/**
 * Runs a synchronous write, retrying it off the event loop while the database is busy, for
 * at most `budgetMs`; then the DatabaseBusyError (503) is thrown. Give it a whole
 * transaction, so that a retry never repeats half of one.
 */
export async function retryWhileBusy<T>(write: () => T, budgetMs = SIGN_IN_RETRY_MS): Promise<T> {
  const deadline = performance.now() + budgetMs
  for (let delay = 10; ; delay *= 2) {
    try {
      return write()
    } catch (error) {
      const left = deadline - performance.now()
      if (!isBusy(error) || left <= 0) throw busyAware(error)
      await Bun.sleep(Math.min(delay, left))
    }
  }
}

/** Delays between retries of queued writes: 50 ms, doubling up to 1 s, back to the start once a write succeeds. */
export class Backoff {
  private delay = 0
  /** Whether the last attempt failed, so that new work waits for the next retry instead of trying at once. */
  get waiting() {
    return this.delay > 0
  }
  next(): number {
    this.delay = this.delay ? Math.min(this.delay * 2, 1_000) : 50
    return this.delay
  }
  reset() {
    this.delay = 0
  }
}
