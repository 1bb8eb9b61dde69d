// The settings store on PostgreSQL.
import type { SQL } from 'bun'
import type { SettingsStore } from '../store'

export function postgresSettings(sql: SQL): SettingsStore {
  const get = async (key: string) => ((await sql`SELECT value FROM settings WHERE key = ${key}`)[0] as { value: string } | undefined)?.value
  return {
    get,
    async ensure(key, value) {
      const existing = await get(key)
      if (existing !== undefined) return existing
      await sql`INSERT INTO settings (key, value) VALUES (${key}, ${value}) ON CONFLICT (key) DO NOTHING`
      return (await get(key))!
    },
  }
}
