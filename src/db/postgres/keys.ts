// The API-keys store on PostgreSQL. The limit of keys per user is counted and the key inserted
// in one transaction holding the user's row: creations for one user (from any replica) take
// turns, so concurrent ones never pass the limit.
import type { SQL } from 'bun'
import { jsonList } from '../json-list'
import { keyLimitsFromRow, rateLimitsText, type KeyStore, type NewApiKey, type StoredApiKey } from '../stores/keys'

type ApiKeyRow = {
  id: string
  user_id: string
  name: string
  prefix: string
  created_at: Date
  last_used_at: Date | null
  expires_at: Date | null
  scopes: string | null
  models: string | null
  rate_limits: string | null
  tokens_per_minute: number | null
}

const columns = (sql: SQL) => sql`id, user_id, name, prefix, created_at, last_used_at, expires_at, scopes, models, rate_limits, tokens_per_minute`

const stored = (row: ApiKeyRow): StoredApiKey => ({
  id: row.id,
  userId: row.user_id,
  name: row.name,
  prefix: row.prefix,
  createdAt: row.created_at.getTime(),
  lastUsedAt: row.last_used_at?.getTime() ?? null,
  expiresAt: row.expires_at?.getTime() ?? null,
  scopes: jsonList(row.scopes),
  models: jsonList(row.models),
  ...keyLimitsFromRow(row.rate_limits, row.tokens_per_minute),
})

export function postgresKeys(sql: SQL): KeyStore {
  const countLive = async (tx: SQL, userId: string) =>
    (await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM api_keys WHERE user_id = ${userId} AND revoked_at IS NULL`)[0]!.n
  const insert = async (tx: SQL, key: NewApiKey, now: number) =>
    (
      await tx<ApiKeyRow[]>`
        INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, expires_at, scopes, models, rate_limits, tokens_per_minute)
        VALUES (${Bun.randomUUIDv7()}, ${key.userId}, ${key.name}, ${key.prefix}, ${key.keyHash}, ${new Date(now)},
                ${key.expiresAt === null ? null : new Date(key.expiresAt)}, ${key.scopes && JSON.stringify(key.scopes)}, ${key.models && JSON.stringify(key.models)},
                ${rateLimitsText(key)}, ${key.tokensPerMinute ?? null})
        RETURNING ${columns(tx)}`
    )[0]!

  return {
    async insertBelowLimit(key, limit, now) {
      return sql.begin(async (tx) => {
        // The user's row, held to the end of the transaction: another creation for this user waits
        // here until this one has inserted (NO KEY UPDATE: rows that merely refer to the user,
        // such as a new session, are not held up).
        await tx`SELECT 1 FROM users WHERE id = ${key.userId} FOR NO KEY UPDATE`
        return (await countLive(tx, key.userId)) >= limit ? undefined : stored(await insert(tx, key, now))
      })
    },
    async listLive(userId) {
      return (
        await sql<ApiKeyRow[]>`
          SELECT ${columns(sql)} FROM api_keys WHERE user_id = ${userId} AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`
      ).map(stored)
    },
    async countLive(userId) {
      return countLive(sql, userId)
    },
    async revoke(userId, id, now) {
      return (
        (await sql`UPDATE api_keys SET revoked_at = ${new Date(now)} WHERE id = ${id} AND user_id = ${userId} AND revoked_at IS NULL`)
          .count === 1
      )
    },
    async setLimits(id, change) {
      // The row before the change, held (FOR UPDATE) so that the values reported as before are those replaced.
      const [row] = await sql<{ user_id: string; rate_limits: string | null; tokens_per_minute: number | null }[]>`
        UPDATE api_keys k
           SET rate_limits = CASE WHEN ${'rateLimits' in change} THEN ${rateLimitsText(change)}::text ELSE k.rate_limits END,
               tokens_per_minute = CASE WHEN ${'tokensPerMinute' in change} THEN ${change.tokensPerMinute ?? null}::int ELSE k.tokens_per_minute END
          FROM (SELECT id, rate_limits, tokens_per_minute FROM api_keys WHERE id = ${id} FOR UPDATE) old
         WHERE k.id = old.id
        RETURNING k.user_id, old.rate_limits, old.tokens_per_minute`
      return row && { userId: row.user_id, before: keyLimitsFromRow(row.rate_limits, row.tokens_per_minute) }
    },
  }
}
