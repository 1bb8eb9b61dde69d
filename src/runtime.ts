// What a running server holds: its configuration, its database and the signing key,
// plus the background work (timers, writers) that must be stopped on shutdown.
import { randomBytes } from 'node:crypto'
import type { Config } from './config'
import { migrate } from './db/migrate'
import { ensureSetting } from './db/settings'
import { openDatabase, type Database } from './db/sqlite'
import { memoryLimiter, type RateLimiter } from './ratelimit/limiter'
import { threatMonitor, type ThreatMonitor } from './threats/monitor'

export type Runtime = {
  config: Config
  db: Database
  secretKey: string
  limiter: RateLimiter
  threats: ThreatMonitor
  /** Registers work to finish on shutdown; closers run in reverse order before the database closes. */
  onClose(closer: () => unknown): void
  close(): Promise<void>
}

export async function startRuntime(config: Config): Promise<Runtime> {
  const db = openDatabase(config.database)
  migrate(db)
  const secretKey = config.secretKey ?? (await ensureSetting(db, 'secret_key', randomBytes(48).toString('base64url')))
  const limiter = memoryLimiter()
  const threats = threatMonitor(db)
  const closers: (() => unknown)[] = [limiter.close, threats.close]
  let closed = false
  return {
    config,
    db,
    secretKey,
    limiter,
    threats,
    onClose: (closer) => void closers.push(closer),
    async close() {
      if (closed) return
      closed = true
      for (const closer of closers.reverse()) await closer()
      db.close()
    },
  }
}
