// The whole Store on PostgreSQL (Bun's built-in SQL client), for deployments of several replicas.
import type { SQL } from 'bun'
import type { Store } from '../store'
import { postgresAccounts } from './accounts'
import { postgresAdmin } from './admin'
import { BackgroundWrites } from './background'
import { postgresKeys } from './keys'
import { postgresSettings } from './settings'
import { postgresThreats } from './threats'

export function postgresStore(sql: SQL): Store {
  const background = new BackgroundWrites()
  const notYet = new Proxy({}, { get: (_, name) => { throw new Error(`not on PostgreSQL yet: ${String(name)}`) } }) as never
  return {
    settings: postgresSettings(sql),
    dashboard: notYet,
    populate: notYet,
    feedback: notYet,
    threats: postgresThreats(sql, background),
    keys: postgresKeys(sql),
    admin: postgresAdmin(sql),
    accounts: postgresAccounts(sql, background),
    telemetry: notYet,
    setLockTimeout: () => {},
    async close() {
      await background.drain()
      await sql.close()
    },
  }
}
