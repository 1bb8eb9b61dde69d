// The admin lists' store on PostgreSQL: users, request logs and feedback, keyset-paged by id.
// Each filter is a fragment of its own, so each combination of filters is its own statement,
// planned for that combination (the indexes behind them: db/migrations/postgres/0005, 0007,
// 0008 and 0009; test/query-plans.test.ts shows them used).
import type { SQL } from 'bun'
import { containing } from '../like'
import type { Role } from '../stores/accounts'
import type { AdminApiKey, AdminFeedback, AdminLog, AdminStore, AdminUser, UserChange } from '../stores/admin'
import { jsonList } from '../json-list'
import { keyLimitsFromRow } from '../stores/keys'
import type { Outcome } from '../stores/telemetry'
import { revokeCredentials } from './credentials'

type UserRow = {
  id: string
  email: string
  name: string
  avatar_url: string | null
  role: Role
  provider: string
  is_active: boolean
  created_at: Date
  last_login_at: Date | null
  max_concurrent_requests: number | null
}

const adminUser = (row: UserRow): AdminUser => ({
  id: row.id,
  email: row.email,
  name: row.name,
  avatarUrl: row.avatar_url,
  role: row.role,
  provider: row.provider,
  createdAt: row.created_at.getTime(),
  lastLoginAt: row.last_login_at?.getTime() ?? null,
  isActive: row.is_active,
  maxConcurrentRequests: row.max_concurrent_requests,
})

/** A request_logs row with its user's email (bigints arrive as strings). */
type LogRecordRow = {
  id: string
  request_id: string
  created_at: Date
  method: string
  path: string
  status: number
  latency_ms: number
  user_id: string | null
  user_email: string | null
  api_key_id: string | null
  session_id: string | null
  model: string | null
  upstream: string | null
  completion_id: string | null
  prompt_tokens: string
  completion_tokens: string
  total_tokens: string
  ttft_ms: number | null
  cost: number
  country: string | null
  ip: string | null
  user_agent: string | null
  error_type: string | null
  outcome: Outcome
  cached: boolean
  cost_saved: number
  end_user: string | null
  metadata: string | null
  images: number | null
}

/** The stored JSON of a log row's metadata (written by the telemetry store: always an object of strings). */
const metadataOf = (text: string | null): Record<string, string> | null => (text === null ? null : (JSON.parse(text) as Record<string, string>))

const adminLog = (row: LogRecordRow): AdminLog => ({
  id: Number(row.id),
  requestId: row.request_id,
  createdAt: row.created_at.getTime(),
  method: row.method,
  path: row.path,
  status: row.status,
  latencyMs: row.latency_ms,
  userId: row.user_id,
  userEmail: row.user_email,
  apiKeyId: row.api_key_id,
  sessionId: row.session_id,
  model: row.model,
  upstream: row.upstream,
  completionId: row.completion_id,
  promptTokens: Number(row.prompt_tokens),
  completionTokens: Number(row.completion_tokens),
  totalTokens: Number(row.total_tokens),
  ttftMs: row.ttft_ms,
  cost: row.cost,
  country: row.country,
  ip: row.ip,
  userAgent: row.user_agent,
  errorType: row.error_type,
  outcome: row.outcome,
  cached: row.cached,
  costSaved: row.cost_saved,
  endUser: row.end_user,
  metadata: metadataOf(row.metadata),
  images: row.images,
})

/** A feedback row with its user's email and the completion's model. */
type FeedbackRow = {
  id: string
  completion_id: string
  user_id: string
  user_email: string | null
  model: string | null
  rating: number
  comment: string | null
  created_at: Date
  updated_at: Date
}

const adminFeedback = (row: FeedbackRow): AdminFeedback => ({
  id: Number(row.id),
  completionId: row.completion_id,
  userId: row.user_id,
  userEmail: row.user_email,
  model: row.model,
  rating: row.rating,
  comment: row.comment,
  createdAt: row.created_at.getTime(),
  updatedAt: row.updated_at.getTime(),
})


/** An api_keys row with its user's email. */
type KeyRow = {
  id: string
  user_id: string
  user_email: string
  name: string
  prefix: string
  created_at: Date
  last_used_at: Date | null
  expires_at: Date | null
  revoked_at: Date | null
  scopes: string | null
  models: string | null
  rate_limits: string | null
  tokens_per_minute: number | null
}

const adminKey = (row: KeyRow): AdminApiKey => ({
  id: row.id,
  userId: row.user_id,
  userEmail: row.user_email,
  name: row.name,
  prefix: row.prefix,
  createdAt: row.created_at.getTime(),
  lastUsedAt: row.last_used_at?.getTime() ?? null,
  expiresAt: row.expires_at?.getTime() ?? null,
  revokedAt: row.revoked_at?.getTime() ?? null,
  scopes: jsonList(row.scopes),
  models: jsonList(row.models),
  ...keyLimitsFromRow(row.rate_limits, row.tokens_per_minute),
})

export function postgresAdmin(sql: SQL): AdminStore {
  const userById = async (tx: SQL, id: string) => {
    const [row] = await tx`SELECT * FROM users WHERE id = ${id}`
    return row ? adminUser(row as UserRow) : undefined
  }
  const keySelect = sql`SELECT k.id, k.user_id, u.email AS user_email, k.name, k.prefix, k.created_at, k.last_used_at, k.expires_at, k.revoked_at, k.scopes, k.models, k.rate_limits, k.tokens_per_minute
    FROM api_keys k JOIN users u ON u.id = k.user_id`
  const logSelect = sql`SELECT l.*, u.email AS user_email FROM request_logs l LEFT JOIN users u ON u.id = l.user_id`

  return {
    async listUsers(filter) {
      const matching = sql`WHERE true
        ${filter.search ? sql`AND (email ILIKE ${containing(filter.search)} OR name ILIKE ${containing(filter.search)})` : sql``}
        ${filter.role ? sql`AND role = ${filter.role}` : sql``}
        ${filter.active !== undefined ? sql`AND is_active = ${filter.active}` : sql``}`
      const [[{ total }], rows] = await Promise.all([
        sql`SELECT count(*)::int AS total FROM users ${matching}`,
        sql`SELECT * FROM users ${matching} ${filter.before ? sql`AND id < ${filter.before}` : sql``}
            ORDER BY id DESC LIMIT ${filter.limit}`,
      ])
      return { total, items: (rows as UserRow[]).map(adminUser) }
    },

    async findUser(id) {
      return userById(sql, id)
    },

    async updateUser(id, change: UserChange, now) {
      return sql.begin(async (tx) => {
        await tx`UPDATE users SET role = coalesce(${change.role ?? null}, role), is_active = coalesce(${change.isActive ?? null}, is_active)
                  WHERE id = ${id}`
        if (change.maxConcurrentRequests !== undefined)
          await tx`UPDATE users SET max_concurrent_requests = ${change.maxConcurrentRequests} WHERE id = ${id}`
        if (change.isActive === false) await revokeCredentials(tx, id, now)
        return userById(tx, id)
      })
    },

    async setKeyConcurrency(keyId, max) {
      const [row] = await sql<{ user_id: string }[]>`UPDATE api_keys SET max_concurrent_requests = ${max} WHERE id = ${keyId} RETURNING user_id`
      return row?.user_id
    },

    async listKeys(filter) {
      const rows = await sql`${keySelect} WHERE true
        ${filter.userId ? sql`AND k.user_id = ${filter.userId}` : sql``}
        ${filter.before ? sql`AND k.id < ${filter.before}` : sql``}
        ORDER BY k.id DESC LIMIT ${filter.limit}`
      return (rows as KeyRow[]).map(adminKey)
    },

    async findKey(id) {
      const [row] = await sql`${keySelect} WHERE k.id = ${id}`
      return row ? adminKey(row as KeyRow) : undefined
    },

    async listLogs(filter) {
      const rows = await sql`${logSelect} WHERE true
        ${filter.userId ? sql`AND l.user_id = ${filter.userId}` : sql``}
        ${filter.model ? sql`AND l.model = ${filter.model}` : sql``}
        ${filter.paths ? sql`AND l.path = ANY(${sql.array([...filter.paths], 'TEXT')})` : sql``}
        ${filter.status !== undefined ? sql`AND l.status = ${filter.status}` : sql``}
        ${filter.outcome ? sql`AND l.outcome = ${filter.outcome}` : sql``}
        ${filter.from !== undefined ? sql`AND l.created_at >= ${new Date(filter.from)}` : sql``}
        ${filter.to !== undefined ? sql`AND l.created_at < ${new Date(filter.to)}` : sql``}
        ${filter.before !== undefined ? sql`AND l.id < ${filter.before}` : sql``}
        ORDER BY l.id DESC LIMIT ${filter.limit}`
      return (rows as LogRecordRow[]).map(adminLog)
    },

    async findLog(id) {
      const [row] = await sql`${logSelect} WHERE l.id = ${id}`
      return row ? adminLog(row as LogRecordRow) : undefined
    },

    async listFeedback(filter) {
      const matching = sql`WHERE true ${filter.rating !== undefined ? sql`AND f.rating = ${filter.rating}` : sql``}`
      const [[{ total }], rows] = await Promise.all([
        sql`SELECT count(*)::int AS total FROM feedback f ${matching}`,
        sql`SELECT f.*, u.email AS user_email,
                   (SELECT model FROM request_logs l WHERE l.completion_id = f.completion_id LIMIT 1) AS model
              FROM feedback f LEFT JOIN users u ON u.id = f.user_id
              ${matching} ${filter.before !== undefined ? sql`AND f.id < ${filter.before}` : sql``}
             ORDER BY f.id DESC LIMIT ${filter.limit}`,
      ])
      return { total, items: (rows as FeedbackRow[]).map(adminFeedback) }
    },
  }
}
