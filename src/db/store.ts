// The storage of the whole product behind one object: one store per feature, each an interface
// that takes and returns that feature's own types (times in ms since the epoch), so that nothing
// above it knows which database holds the data. The runtime holds the chosen implementation
// (src/db/sqlite/ today). Features move behind it one at a time; those not moved yet still
// take the SQLite handle (`rt.db`). Each feature's interface lives in src/db/stores/: in the
// feature's own folder it would make an import cycle (the feature imports the runtime, which
// imports this file).
import type { AccountStore } from './stores/accounts'
import type { AdminStore } from './stores/admin'
import type { DashboardStore } from './stores/dashboard'
import type { FeedbackStore } from './stores/feedback'
import type { KeyStore } from './stores/keys'
import type { PopulateStore } from './stores/populate'
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
}
