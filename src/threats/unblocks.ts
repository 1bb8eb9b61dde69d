// Operators lift sign-in blocks with `ai-studio unblock`, a separate process: the blocks live in
// the servers' memory (or in Redis, shared by them), so the command leaves its request in the
// database (the threat store) and every running server applies the requests it has not seen yet,
// polling once a second (a read of an index). With Redis the first replica to apply a request
// clears the shared counts; the others find nothing left and clear their own fallback memory. A
// request that could not reach Redis is applied again at the next poll.
import { DAY } from '../http/dates'
import type { Runtime } from '../runtime'
import { liftSignInBlocks } from './brute-force'
import type { Unblock } from './store'

const POLL_MS = 1000
/** Requests are kept a day, for servers that were starting while they were made. */
const KEEP_MS = DAY

export async function requestUnblock(rt: Runtime, unblock: Unblock, now = Date.now()): Promise<void> {
  await rt.store.threats.requestUnblock(unblock, now, KEEP_MS)
}

/** Applies, once a second, the unblock requests made since the server started; stops when the runtime closes. */
export function applyUnblocks(rt: Runtime): void {
  const threats = rt.store.threats
  /** The newest request seen; undefined until it is read (at start, or at the next poll if that failed). */
  let seen: number | undefined
  let polling = false
  const readNewest = () =>
    threats.newestUnblockId().then(
      (id) => void (seen ??= id),
      (error) => report(error),
    )
  const report = (error: unknown) => {
    // Busy or closing: the next poll tries again.
    if (rt.config.debug) console.error('sign-in unblocks: could not read requests:', (error as Error).message)
  }
  void readNewest()
  const timer = setInterval(async () => {
    if (polling) return
    polling = true
    try {
      if (seen === undefined) return void (await readNewest())
      for (const row of await threats.unblocksAfter(seen)) {
        await liftSignInBlocks(rt, row)
        seen = row.id
      }
    } catch (error) {
      report(error)
    } finally {
      polling = false
    }
  }, POLL_MS)
  timer.unref()
  rt.onClose(() => clearInterval(timer))
}
