// Writes a request must not wait for: bookkeeping (when an API key or a session was last
// used) and threat rows. Each is tried at once, which costs the request at most the server's
// few-millisecond busy timeout; while another process holds the write lock it is kept, and
// everything kept is retried together, in one transaction, with backoff. A write kept under a
// key is replaced by a later one with the same key (the latest last-used time wins).
import type { Database } from 'bun:sqlite'
import { Backoff, isBusy, SHUTDOWN_RETRY_MS } from '../busy'

/** Writes kept at most while the database stays busy: past this, new ones are dropped (and said so). */
const MAX_WAITING = 10_000

export type DeferredWrites = {
  /** Runs `write` (synchronous SQL) now, or later if the database is busy. */
  add(write: () => unknown, key?: string): void
  /** Keeps trying until everything kept is written or `timeoutMs` has passed (shutdown). */
  drain(timeoutMs?: number): Promise<void>
}

const queues = new WeakMap<Database, DeferredWrites>()

/** The database's one queue of deferred writes. */
export function deferredWrites(db: Database): DeferredWrites {
  let queue = queues.get(db)
  if (!queue) queues.set(db, (queue = createQueue(db)))
  return queue
}

function createQueue(db: Database): DeferredWrites {
  const waiting = new Map<string | symbol, () => unknown>()
  const backoff = new Backoff()
  let retry: Timer | undefined
  let dropped = 0

  const report = (error: unknown) => console.error('deferred database write failed:', error)

  /** Writes everything kept in one transaction; false while the database is still busy. */
  const writeWaiting = (): boolean => {
    clearTimeout(retry)
    retry = undefined
    if (waiting.size === 0) return true
    try {
      // IMMEDIATE: the lock is taken (or refused) before any write runs, so a busy database
      // fails the whole batch, which is kept, and never one write of it.
      db.transaction(() => {
        for (const write of waiting.values()) {
          try {
            const result = write()
            if (result instanceof Promise) result.catch(report)
          } catch (error) {
            if (isBusy(error)) throw error
            // Only this write is at fault (a constraint, say): retrying would not help it.
            report(error)
          }
        }
      }).immediate()
    } catch (error) {
      if (!isBusy(error)) report(error)
      else {
        retry = setTimeout(writeWaiting, backoff.next())
        retry.unref?.()
        return false
      }
    }
    if (dropped) console.error(`deferred database writes: ${dropped} were dropped while the database was busy`)
    waiting.clear()
    backoff.reset()
    dropped = 0
    return true
  }

  return {
    add(write, key) {
      const id = key ?? Symbol()
      if (!waiting.has(id) && waiting.size >= MAX_WAITING) {
        dropped++
        return
      }
      waiting.set(id, write)
      // While a retry is pending, a new write joins it rather than meeting the lock again now.
      if (!backoff.waiting) writeWaiting()
    },
    async drain(timeoutMs = SHUTDOWN_RETRY_MS) {
      const deadline = Date.now() + timeoutMs
      while (!writeWaiting() && Date.now() < deadline) await Bun.sleep(50)
      clearTimeout(retry)
      if (waiting.size)
        console.error(`deferred database writes: ${waiting.size} (last-used times, threats) were not written; the database stayed busy`)
    },
  }
}
