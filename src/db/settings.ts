// Server-wide values kept in the database, such as the generated signing key.
import type { Database } from 'bun:sqlite'

export async function getSetting(db: Database, key: string): Promise<string | undefined> {
  return db.query<{ value: string }, [string]>('SELECT value FROM settings WHERE key = ?').get(key)?.value
}

/** Stores `value` unless the key already has one, and returns whichever value is kept. */
export async function ensureSetting(db: Database, key: string, value: string): Promise<string> {
  // Read first: a setting that exists needs no write (and so no wait for another process's lock).
  const existing = await getSetting(db, key)
  if (existing !== undefined) return existing
  db.query('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value)
  return (await getSetting(db, key))!
}
