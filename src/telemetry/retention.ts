// LOG_RETENTION_DAYS: raw request-log rows older than that many days are deleted in the
// background, a small batch at a time so that no batch holds the event loop or the write lock
// for long. The dashboard reads the rollups, which keep every total: pruning changes no figure
// it shows; what goes is the row-by-row detail (the admin's log view, ratings of old completions).
import { DAY, HOUR } from '../http/dates'
import { inRounds } from '../background-rounds'
import type { Runtime } from '../runtime'

const EVERY_MS = HOUR
/** Rows deleted per statement: a few milliseconds of work. */
const BATCH = 2_000

/** Deletes up to one batch of rows created before `before`; returns how many went. */
export const pruneBatch = (rt: Runtime, before: number): Promise<number> => rt.store.telemetry.pruneLogs(before, BATCH)

export function pruneOldLogs(rt: Runtime): void {
  const days = rt.config.logRetentionDays
  if (!days) return
  inRounds(rt, async (stopped) => {
    const before = Date.now() - days * DAY
    try {
      while (!stopped() && (await pruneBatch(rt, before)) === BATCH) await Bun.sleep(10)
    } catch (error) {
      // Busy (another writer) or closing: the next round tries again.
      console.error(`request log retention: pruning failed (${(error as Error).message}); will retry`)
    }
    return true
  }, EVERY_MS)
}
