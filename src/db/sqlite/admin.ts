// The admin lists' store on SQLite: users, request logs and feedback, keyset-paged by id.
import type { Database } from 'bun:sqlite'
import { containing } from '../like'
import type { Role } from '../stores/accounts'
import type { AdminApiKey, AdminFeedback, AdminLog, AdminStore, AdminUser, UserChange } from '../stores/admin'
import { jsonList } from '../json-list'
import { keyLimitsFromRow } from '../stores/keys'
import type { Outcome } from '../stores/telemetry'
import { whereOf, type SqlArgs } from './where'
import { revokeCredentials } from './credentials'

type UserRow = {
  id: string
  email: string
  name: string
  avatar_url: string | null
  role: Role
  provider: string
  is_active: number
  created_at: number
  last_login_at: number | null
  max_concurrent_requests: number | null
}

const adminUser = (row: UserRow): AdminUser => ({
  id: row.id,
  email: row.email,
  name: row.name,
  avatarUrl: row.avatar_url,
  role: row.role,
  provider: row.provider,
  createdAt: row.created_at,
  lastLoginAt: row.last_login_at,
  isActive: row.is_active === 1,
  maxConcurrentRequests: row.max_concurrent_requests,
})

/** A request_logs row with its user's email. */
type LogRecordRow = {
  id: number
  request_id: string
  created_at: number
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
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  ttft_ms: number | null
  cost: number
  country: string | null
  ip: string | null
  user_agent: string | null
  error_type: string | null
  outcome: Outcome
  cached: number
  cost_saved: number
  end_user: string | null
  metadata: string | null
  images: number | null
}

/** The stored JSON of a log row's metadata (written by the telemetry store: always an object of strings). */
const metadataOf = (text: string | null): Record<string, string> | null => (text === null ? null : (JSON.parse(text) as Record<string, string>))

const adminLog = (row: LogRecordRow): AdminLog => ({
  id: row.id,
  requestId: row.request_id,
  createdAt: row.created_at,
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
  promptTokens: row.prompt_tokens,
  completionTokens: row.completion_tokens,
  totalTokens: row.total_tokens,
  ttftMs: row.ttft_ms,
  cost: row.cost,
  country: row.country,
  ip: row.ip,
  userAgent: row.user_agent,
  errorType: row.error_type,
  outcome: row.outcome,
  cached: row.cached === 1,
  costSaved: row.cost_saved,
  endUser: row.end_user,
  metadata: metadataOf(row.metadata),
  images: row.images,
})

/** A feedback row with its user's email and the completion's model. */
type FeedbackRow = {
  id: number
  completion_id: string
  user_id: string
  user_email: string | null
  model: string | null
  rating: number
  comment: string | null
  created_at: number
  updated_at: number
}

const adminFeedback = (row: FeedbackRow): AdminFeedback => ({
  id: row.id,
  completionId: row.completion_id,
  userId: row.user_id,
  userEmail: row.user_email,
  model: row.model,
  rating: row.rating,
  comment: row.comment,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
})

/** An api_keys row with its user's email. */
type KeyRow = {
  id: string
  user_id: string
  user_email: string
  name: string
  prefix: string
  created_at: number
  last_used_at: number | null
  expires_at: number | null
  revoked_at: number | null
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
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
  scopes: jsonList(row.scopes),
  models: jsonList(row.models),
  ...keyLimitsFromRow(row.rate_limits, row.tokens_per_minute),
})

const keySelect = `SELECT k.id, k.user_id, u.email AS user_email, k.name, k.prefix, k.created_at, k.last_used_at, k.expires_at, k.revoked_at, k.scopes, k.models, k.rate_limits, k.tokens_per_minute
  FROM api_keys k JOIN users u ON u.id = k.user_id`

const logSelect = `SELECT l.*, u.email AS user_email FROM request_logs l LEFT JOIN users u ON u.id = l.user_id`

export function sqliteAdmin(db: Database): AdminStore {
  const userById = (id: string) => {
    const row = db.query<UserRow, [string]>('SELECT * FROM users WHERE id = ?').get(id)
    return row ? adminUser(row) : undefined
  }
  const updateUser = db.transaction((id: string, change: UserChange, now: number) => {
    db.query('UPDATE users SET role = coalesce(?, role), is_active = coalesce(?, is_active) WHERE id = ?').run(
      change.role ?? null,
      change.isActive === undefined ? null : Number(change.isActive),
      id,
    )
    if (change.maxConcurrentRequests !== undefined)
      db.query('UPDATE users SET max_concurrent_requests = ? WHERE id = ?').run(change.maxConcurrentRequests, id)
    if (change.isActive === false) revokeCredentials(db, id, now)
    return userById(id)
  })

  return {
    async listUsers(filter) {
      const clauses: string[] = []
      const args: SqlArgs = []
      if (filter.search) {
        const n = args.push(containing(filter.search))
        clauses.push(`(email LIKE ?${n} ESCAPE '\\' OR name LIKE ?${n} ESCAPE '\\')`)
      }
      if (filter.role) clauses.push(`role = ?${args.push(filter.role)}`)
      if (filter.active !== undefined) clauses.push(`is_active = ?${args.push(filter.active ? 1 : 0)}`)
      const total = db.query<{ n: number }, SqlArgs>(`SELECT count(*) AS n FROM users ${whereOf(clauses)}`).get(...args)!.n
      if (filter.before) clauses.push(`id < ?${args.push(filter.before)}`)
      const rows = db
        .query<UserRow, SqlArgs>(`SELECT * FROM users ${whereOf(clauses)} ORDER BY id DESC LIMIT ?${args.push(filter.limit)}`)
        .all(...args)
      return { total, items: rows.map(adminUser) }
    },

    async findUser(id) {
      return userById(id)
    },

    async updateUser(id, change, now) {
      return updateUser(id, change, now)
    },

    async setKeyConcurrency(keyId, max) {
      return db.query<{ user_id: string }, [number | null, string]>('UPDATE api_keys SET max_concurrent_requests = ? WHERE id = ? RETURNING user_id').get(max, keyId)?.user_id
    },

    async listKeys(filter) {
      const clauses: string[] = []
      const args: SqlArgs = []
      if (filter.userId) clauses.push(`k.user_id = ?${args.push(filter.userId)}`)
      if (filter.before) clauses.push(`k.id < ?${args.push(filter.before)}`)
      return db
        .query<KeyRow, SqlArgs>(`${keySelect} ${whereOf(clauses)} ORDER BY k.id DESC LIMIT ?${args.push(filter.limit)}`)
        .all(...args)
        .map(adminKey)
    },

    async findKey(id) {
      const row = db.query<KeyRow, [string]>(`${keySelect} WHERE k.id = ?`).get(id)
      return row ? adminKey(row) : undefined
    },

    async listLogs(filter) {
      const clauses: string[] = []
      const args: SqlArgs = []
      if (filter.userId) clauses.push(`l.user_id = ?${args.push(filter.userId)}`)
      if (filter.model) clauses.push(`l.model = ?${args.push(filter.model)}`)
      if (filter.paths) clauses.push(`l.path IN (${filter.paths.map((path) => `?${args.push(path)}`).join(', ')})`)
      if (filter.status !== undefined) clauses.push(`l.status = ?${args.push(filter.status)}`)
      if (filter.outcome) clauses.push(`l.outcome = ?${args.push(filter.outcome)}`)
      if (filter.from !== undefined) clauses.push(`l.created_at >= ?${args.push(filter.from)}`)
      if (filter.to !== undefined) clauses.push(`l.created_at < ?${args.push(filter.to)}`)
      if (filter.before !== undefined) clauses.push(`l.id < ?${args.push(filter.before)}`)
      return db
        .query<LogRecordRow, SqlArgs>(`${logSelect} ${whereOf(clauses)} ORDER BY l.id DESC LIMIT ?${args.push(filter.limit)}`)
        .all(...args)
        .map(adminLog)
    },

    async findLog(id) {
      const row = db.query<LogRecordRow, [number]>(`${logSelect} WHERE l.id = ?`).get(id)
      return row ? adminLog(row) : undefined
    },

    async listFeedback(filter) {
      const clauses: string[] = []
      const args: SqlArgs = []
      if (filter.rating !== undefined) clauses.push(`f.rating = ?${args.push(filter.rating)}`)
      const total = db.query<{ n: number }, SqlArgs>(`SELECT count(*) AS n FROM feedback f ${whereOf(clauses)}`).get(...args)!.n
      if (filter.before !== undefined) clauses.push(`f.id < ?${args.push(filter.before)}`)
      const rows = db
        .query<FeedbackRow, SqlArgs>(
          `SELECT f.*, u.email AS user_email,
                  (SELECT model FROM request_logs l WHERE l.completion_id = f.completion_id LIMIT 1) AS model
             FROM feedback f LEFT JOIN users u ON u.id = f.user_id
             ${whereOf(clauses)} ORDER BY f.id DESC LIMIT ?${args.push(filter.limit)}`,
        )
        .all(...args)
      return { total, items: rows.map(adminFeedback) }
    },
  }
}
