// The whole Store on one SQLite database (bun:sqlite, the embedded default).
import type { Database } from 'bun:sqlite'
import { deferredWrites } from './deferred'
import type { Store } from '../store'
import { sqliteConversations } from './conversations'
import { sqliteAccounts } from './accounts'
import { sqliteAdmin } from './admin'
import { sqliteAudit } from './audit'
import { sqliteBudgets } from './budgets'
import { sqliteDashboard } from './dashboard'
import { sqliteFeedback } from './feedback'
import { sqliteKeys } from './keys'
import { sqlitePopulate } from './populate'
import { sqliteResponses } from './responses'
import { sqliteSettings } from './settings'
import { sqliteTelemetry } from './telemetry'
import { sqliteThreats } from './threats'
import { setBusyTimeout } from './database'

export function sqliteStore(db: Database): Store {
  return {
    settings: sqliteSettings(db),
    dashboard: sqliteDashboard(db),
    populate: sqlitePopulate(db),
    feedback: sqliteFeedback(db),
    threats: sqliteThreats(db),
    keys: sqliteKeys(db),
    admin: sqliteAdmin(db),
    accounts: sqliteAccounts(db),
    conversations: sqliteConversations(db),
    responses: sqliteResponses(db),
    audit: sqliteAudit(db),
    budgets: sqliteBudgets(db),
    telemetry: sqliteTelemetry(db),
    setLockTimeout: (ms) => setBusyTimeout(db, ms),
    async close() {
      await deferredWrites(db).drain()
      db.close()
    },
  }
}
