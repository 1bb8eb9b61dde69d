// The whole Store on PostgreSQL (Bun's built-in SQL client), for deployments of several replicas.
import type { SQL } from 'bun'
import type { Store } from '../store'
import { postgresConversations } from './conversations'
import { postgresAccounts } from './accounts'
import { postgresAdmin } from './admin'
import { postgresAudit } from './audit'
import { postgresBudgets } from './budgets'
import { BackgroundWrites } from './background'
import { postgresDashboard } from './dashboard'
import { postgresFeedback } from './feedback'
import { postgresKeys } from './keys'
import { postgresPopulate } from './populate'
import { postgresResponses } from './responses'
import { postgresSettings } from './settings'
import { postgresTelemetry } from './telemetry'
import { postgresThreats } from './threats'

export function postgresStore(sql: SQL): Store {
  const background = new BackgroundWrites()
  return {
    settings: postgresSettings(sql),
    dashboard: postgresDashboard(sql),
    populate: postgresPopulate(sql),
    feedback: postgresFeedback(sql),
    threats: postgresThreats(sql, background),
    keys: postgresKeys(sql),
    admin: postgresAdmin(sql),
    accounts: postgresAccounts(sql, background),
    conversations: postgresConversations(sql),
    responses: postgresResponses(sql),
    audit: postgresAudit(sql),
    budgets: postgresBudgets(sql, background),
    telemetry: postgresTelemetry(sql),
    setLockTimeout: () => {},
    async close() {
      await background.drain()
      await sql.close()
    },
  }
}
