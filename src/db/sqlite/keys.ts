// The API-keys store on SQLite.
import type { Database } from 'bun:sqlite'
import { jsonList } from '../json-list'
import { keyLimitsFromRow, rateLimitsText, type KeyLimits, type KeyStore, type NewApiKey, type StoredApiKey } from '../stores/keys'

type ApiKeyRow = {
  id: string
  user_id: string
  name: string
  prefix: string
  created_at: number
  last_used_at: number | null
  expires_at: number | null
  scopes: string | null
  models: string | null
  rate_limits: string | null
  tokens_per_minute: number | null
}

const columns = 'id, user_id, name, prefix, created_at, last_used_at, expires_at, scopes, models, rate_limits, tokens_per_minute'

const stored = (row: ApiKeyRow): StoredApiKey => ({
  id: row.id,
  userId: row.user_id,
  name: row.name,
  prefix: row.prefix,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  expiresAt: row.expires_at,
  scopes: jsonList(row.scopes),
  models: jsonList(row.models),
  ...keyLimitsFromRow(row.rate_limits, row.tokens_per_minute),
})

export function sqliteKeys(db: Database): KeyStore {
  const countLive = (userId: string) =>
    db.query<{ n: number }, [string]>('SELECT count(*) AS n FROM api_keys WHERE user_id = ? AND revoked_at IS NULL').get(userId)!.n
  const insert = (key: NewApiKey, now: number) =>
    db
      .query<ApiKeyRow, [string, string, string, string, string, number, number | null, string | null, string | null, string | null, number | null]>(
        `INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, expires_at, scopes, models, rate_limits, tokens_per_minute)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         RETURNING ${columns}`,
      )
      .get(
        Bun.randomUUIDv7(), key.userId, key.name, key.prefix, key.keyHash, now, key.expiresAt,
        key.scopes && JSON.stringify(key.scopes), key.models && JSON.stringify(key.models), rateLimitsText(key), key.tokensPerMinute ?? null,
      )!
  // IMMEDIATE takes the write lock before the count: another process cannot insert in between.
  const insertBelowLimit = db.transaction((key: NewApiKey, limit: number, now: number) =>
    countLive(key.userId) >= limit ? undefined : stored(insert(key, now)),
  ).immediate
  type LimitsRow = { user_id: string; rate_limits: string | null; tokens_per_minute: number | null }
  const setLimits = db.transaction((id: string, change: Partial<KeyLimits>) => {
    const before = db.query<LimitsRow, [string]>('SELECT user_id, rate_limits, tokens_per_minute FROM api_keys WHERE id = ?').get(id)
    if (!before) return undefined
    db.query(
      `UPDATE api_keys SET rate_limits = CASE WHEN ?1 THEN ?2 ELSE rate_limits END,
                           tokens_per_minute = CASE WHEN ?3 THEN ?4 ELSE tokens_per_minute END
        WHERE id = ?5`,
    ).run('rateLimits' in change, rateLimitsText(change), 'tokensPerMinute' in change, change.tokensPerMinute ?? null, id)
    return { userId: before.user_id, before: keyLimitsFromRow(before.rate_limits, before.tokens_per_minute) }
  }).immediate

  return {
    async insertBelowLimit(key, limit, now) {
      return insertBelowLimit(key, limit, now)
    },
    async listLive(userId) {
      return db
        .query<ApiKeyRow, [string]>(
          `SELECT ${columns} FROM api_keys WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`,
        )
        .all(userId)
        .map(stored)
    },
    async countLive(userId) {
      return countLive(userId)
    },
    async revoke(userId, id, now) {
      return (
        db.query('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL').run(now, id, userId)
          .changes === 1
      )
    },
    async setLimits(id, limits) {
      return setLimits(id, limits)
    },
  }
}
