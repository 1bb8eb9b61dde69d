// What a running server holds: its configuration, its database and the signing key,
// plus the background work (timers, writers) that must be stopped on shutdown.
import { randomBytes } from 'node:crypto'
import type { Config } from './config'
import { migrate } from './db/migrate'
import { ensureSetting } from './db/settings'
import { openDatabase, type Database } from './db/sqlite'

export type Runtime = {
  config: Config
  db: Database
  secretKey: string
  /** Registers work to finish on shutdown; closers run in reverse order before the database closes. */
  onClose(closer: () => unknown): void
  close(): Promise<void>
}

export async function startRuntime(config: Config): Promise<Runtime> {
  const db = openDatabase(config.database)
  migrate(db)
  const secretKey = config.secretKey ?? (await ensureSetting(db, 'secret_key', randomBytes(48).toString('base64url')))
  const closers: (() => unknown)[] = []
  let closed = false
  return {
    config,
    db,
    secretKey,
    onClose: (closer) => void closers.push(closer),
    async close() {
      if (closed) return
      closed = true
      for (const closer of closers.reverse()) await closer()
      db.close()
    },
  }
}
