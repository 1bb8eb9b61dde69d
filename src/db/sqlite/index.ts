// The whole Store on one SQLite database (bun:sqlite, the embedded default).
import type { Database } from 'bun:sqlite'
import type { Store } from '../store'
import { sqliteSettings } from './settings'
import { sqliteKeys } from './keys'
import { sqliteAdmin } from './admin'

export function sqliteStore(db: Database): Store {
  return {
    settings: sqliteSettings(db),
    keys: sqliteKeys(db),
    admin: sqliteAdmin(db),
  }
}
