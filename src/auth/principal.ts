// Who is calling: the user behind a JWT access token or an API key, checked against the
// database on every request so that deactivation, revocation and role changes apply at once.
import type { Database } from 'bun:sqlite'
import { deferredWrites } from '../db/deferred'
import { sameHash, sha256 } from './crypto'

export type Role = 'admin' | 'user'

export type Principal = {
  userId: string
  role: Role
  email: string
  sessionId?: string
  apiKeyId?: string
}

export const API_KEY_PREFIX = 'sk-studio-'

type UserRow = { id: string; email: string; role: Role; is_active: number }
type KeyRow = { key_id: string; key_hash: string; expires_at: number | null; revoked_at: number | null; last_used_at: number | null }

export async function principalForSession(db: Database, userId: string, sessionId: string): Promise<Principal | undefined> {
  const row = db
    .query<UserRow & { revoked_at: number | null }, [string, string]>(
      `SELECT u.id, u.email, u.role, u.is_active, s.revoked_at
         FROM users u JOIN sessions s ON s.user_id = u.id
        WHERE u.id = ? AND s.id = ?`,
    )
    .get(userId, sessionId)
  if (!row || !row.is_active || row.revoked_at !== null) return undefined
  return { userId: row.id, role: row.role, email: row.email, sessionId }
}

export async function principalForApiKey(db: Database, key: string, now = Date.now()): Promise<Principal | undefined> {
  const hash = sha256(key)
  const row = db
    .query<UserRow & KeyRow, [string]>(
      `SELECT u.id, u.email, u.role, u.is_active, k.id AS key_id, k.key_hash, k.expires_at, k.revoked_at, k.last_used_at
         FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE k.key_hash = ?`,
    )
    .get(hash)
  if (!row || !sameHash(row.key_hash, hash)) return undefined
  if (!row.is_active || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) return undefined
  // Last use is kept to the minute: one write a minute per key, not one per request. It is
  // bookkeeping: deferred while the database is busy, never a reason to fail the request.
  if ((row.last_used_at ?? 0) < now - 60_000)
    deferredWrites(db).add(
      () => db.query('UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND coalesce(last_used_at, 0) < ?1 - 60000').run(now, row.key_id),
      `api_keys.last_used_at ${row.key_id}`,
    )
  return { userId: row.id, role: row.role, email: row.email, apiKeyId: row.key_id }
}
