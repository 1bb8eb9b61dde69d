// The whole Store on PostgreSQL (Bun's built-in SQL client), for deployments of several replicas.
import type { SQL } from 'bun'
import type { Store } from '../store'
import { BackgroundWrites } from './background'
import { postgresDashboard } from './dashboard'
import { postgresFeedback } from './feedback'
import { postgresPopulate } from './populate'
import { postgresSettings } from './settings'
import { postgresTelemetry } from './telemetry'

export function postgresStore(sql: SQL): Store {
  const background = new BackgroundWrites()
  const notYet = new Proxy({}, { get: (_, name) => { throw new Error(`not on PostgreSQL yet: ${String(name)}`) } }) as never
  return {
    settings: postgresSettings(sql),
    dashboard: postgresDashboard(sql),
    populate: postgresPopulate(sql),
    feedback: postgresFeedback(sql),
    threats: notYet,
    keys: notYet,
    admin: notYet,
    accounts: notYet,
    telemetry: postgresTelemetry(sql),
    setLockTimeout: () => {},
    async close() {
      await background.drain()
      await sql.close()
    },
  }
}
