// The settings store on SQLite.
import type { Database } from 'bun:sqlite'
import type { SettingsStore } from '../store'

export function sqliteSettings(db: Database): SettingsStore {
  const select = db.query<{ value: string }, [string]>('SELECT value FROM settings WHERE key = ?')
  const insert = db.query<unknown, [string, string]>('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING')
  const get = async (key: string) => select.get(key)?.value
  return {
    get,
    async ensure(key, value) {
      // Read first: a setting that exists needs no write (and so no wait for another process's lock).
      const existing = await get(key)
      if (existing !== undefined) return existing
      insert.run(key, value)
      return (await get(key))!
    },
  }
}
