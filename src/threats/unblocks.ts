// Operators lift sign-in blocks with `ai-studio unblock`, a separate process: the blocks live in
// the server's memory, so the command leaves its request in the database and every running
// server applies the requests it has not seen yet, polling once a second (a read of an index).
import type { Database } from 'bun:sqlite'
import { DAY } from '../http/dates'
import type { Runtime } from '../runtime'
import { liftSignInBlocks } from './brute-force'

export type Unblock = { email: string | null; address: string | null }

const POLL_MS = 1000
/** Requests are kept a day, for servers that were starting while they were made. */
const KEEP_MS = DAY

export async function requestUnblock(db: Database, unblock: Unblock, now = Date.now()): Promise<void> {
  db.transaction(() => {
    db.query('DELETE FROM sign_in_unblocks WHERE created_at < ?').run(now - KEEP_MS)
    db.query('INSERT INTO sign_in_unblocks (email, address, created_at) VALUES (?, ?, ?)').run(unblock.email, unblock.address, now)
  })()
}

/** Applies, once a second, the unblock requests made since the server started; stops when the runtime closes. */
export function applyUnblocks(rt: Runtime): void {
  const newest = () => rt.db.query<{ id: number | null }, []>('SELECT max(id) AS id FROM sign_in_unblocks').get()!.id ?? 0
  let seen = newest()
  const since = rt.db.query<Unblock & { id: number }, [number]>('SELECT id, email, address FROM sign_in_unblocks WHERE id > ? ORDER BY id')
  const timer = setInterval(() => {
    try {
      for (const row of since.all(seen)) {
        liftSignInBlocks(rt, row)
        seen = row.id
      }
    } catch (error) {
      // Busy or closing: the next poll tries again.
      if (rt.config.debug) console.error('sign-in unblocks: could not read requests:', (error as Error).message)
    }
  }, POLL_MS)
  timer.unref()
  rt.onClose(() => clearInterval(timer))
}
