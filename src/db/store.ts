// The storage of the whole product behind one object: one store per feature, each an interface
// that takes and returns that feature's own types (times in ms since the epoch), so that nothing
// above it knows which database holds the data. The runtime holds the chosen implementation
// (src/db/sqlite/ today). Features move behind it one at a time; those not moved yet still
// take the SQLite handle (`rt.db`).
import type { AdminStore } from './admin-store'
import type { KeyStore } from './keys-store'

/** Server-wide values, such as the generated signing key. */
export interface SettingsStore {
  get(key: string): Promise<string | undefined>
  /** Stores `value` unless the key already has one; returns whichever value is kept. */
  ensure(key: string, value: string): Promise<string>
}

export type Store = {
  settings: SettingsStore
  keys: KeyStore
  admin: AdminStore
}
