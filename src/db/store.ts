// The storage of the whole product behind one object: one store per feature, each an interface
// that takes and returns that feature's own types (times in ms since the epoch), so that nothing
// above it knows which database holds the data. The runtime holds the implementation that
// DATABASE_URL chose (src/db/sqlite/ or src/db/postgres/, opened by ./open.ts). Each feature's
// interface lives in src/db/stores/: in the feature's own folder it would make an import cycle
// (the feature imports the runtime, which imports this file).
import type { AccountStore } from './stores/accounts'
import type { AdminStore } from './stores/admin'
import type { AuditStore } from './stores/audit'
import type { BudgetStore } from './stores/budgets'
import type { ConversationStore } from './stores/conversations'
import type { DashboardStore } from './stores/dashboard'
import type { FeedbackStore } from './stores/feedback'
import type { KeyStore } from './stores/keys'
import type { PopulateStore } from './stores/populate'
import type { ResponseStore } from './stores/responses'
import type { TelemetryStore } from './stores/telemetry'
import type { ThreatStore } from './stores/threats'

/** Server-wide values, such as the generated signing key. */
export interface SettingsStore {
  get(key: string): Promise<string | undefined>
  /** Stores `value` unless the key already has one; returns whichever value is kept. */
  ensure(key: string, value: string): Promise<string>
}

export type Store = {
  settings: SettingsStore
  dashboard: DashboardStore
  populate: PopulateStore
  feedback: FeedbackStore
  threats: ThreatStore
  keys: KeyStore
  admin: AdminStore
  accounts: AccountStore
  telemetry: TelemetryStore
  conversations: ConversationStore
  responses: ResponseStore
  audit: AuditStore
  budgets: BudgetStore
  /**
   * How long a statement may wait for another process's lock on the whole database before it
   * fails as busy (SQLite's one writer at a time). PostgreSQL locks rows, never the whole
   * database, so there it changes nothing.
   */
  setLockTimeout(ms: number): void
  /** Writes what is still kept for later (on SQLite, see ./sqlite/deferred.ts; on PostgreSQL, ./postgres/background.ts), then closes the connections. */
  close(): Promise<void>
}
