// The runtime of a command-line tool. Unlike the server it has no one else to serve, so its
// statements may wait for another process's write lock (a running server's) as long as start-up does.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { loadConfig } from '../config'
import { COMMAND_BUSY_TIMEOUT_MS } from '../db/busy'
import { startRuntime } from '../runtime'

export const commandRuntime = () => startRuntime(loadConfig(), { busyTimeoutMs: COMMAND_BUSY_TIMEOUT_MS })

/**
 * Whether DATABASE_URL names a database a running server may share, for commands that change
 * what servers read (`unblock`, `budget`): never a new one, since a change no server reads would
 * look like success. Says why not on stderr.
 */
export function existingDatabase(): boolean {
  const database = loadConfig().database
  if (database.kind === 'sqlite' && database.path === ':memory:') {
    console.error('DATABASE_URL is an in-memory database, which no running server shares: set the server\'s DATABASE_URL')
    return false
  }
  if (database.kind === 'sqlite' && !existsSync(resolve(database.path))) {
    console.error(`no database at ${resolve(database.path)}: run this where the server runs, with its DATABASE_URL`)
    return false
  }
  return true
}
