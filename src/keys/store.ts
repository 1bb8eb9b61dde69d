// SQL for API keys. Only a key's SHA-256 is stored; the prefix is kept to recognise it in lists.
import type { Database } from 'bun:sqlite'

export type ApiKeyRow = {
  id: string
  user_id: string
  name: string
  prefix: string
  created_at: number
  last_used_at: number | null
  expires_at: number | null
}

export type NewApiKey = { userId: string; name: string; prefix: string; keyHash: string; expiresAt: number | null }

export async function insertApiKey(db: Database, key: NewApiKey, now: number): Promise<ApiKeyRow> {
  return db
    .query<ApiKeyRow, [string, string, string, string, string, number, number | null]>(
      `INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       RETURNING id, user_id, name, prefix, created_at, last_used_at, expires_at`,
    )
    .get(Bun.randomUUIDv7(), key.userId, key.name, key.prefix, key.keyHash, now, key.expiresAt)!
}

/** The user's keys that are not revoked, newest first (expired ones included, so they can be cleaned up). */
export async function listApiKeys(db: Database, userId: string): Promise<ApiKeyRow[]> {
  return db
    .query<ApiKeyRow, [string]>(
      `SELECT id, user_id, name, prefix, created_at, last_used_at, expires_at FROM api_keys
        WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`,
    )
    .all(userId)
}

/** How many keys the user has that are not revoked (expired ones included). */
export async function countApiKeys(db: Database, userId: string): Promise<number> {
  return db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM api_keys WHERE user_id = ? AND revoked_at IS NULL').get(userId)!.n
}

/** Revokes one of the user's own keys; false when the user has no such live key. */
export async function revokeApiKey(db: Database, userId: string, id: string, now: number): Promise<boolean> {
  return (
    db.query('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL').run(now, id, userId)
      .changes === 1
  )
}
