// The admin views' SQL: users, request logs and feedback, each read in bounded, keyset-paged
// slices, and the one change an admin makes to a user, in a transaction.
import type { Database } from 'bun:sqlite'
import { userView } from '../auth/model'
import { iso } from '../http/schema'
import type { Role } from '../auth/principal'
import { revokeCredentials, type UserRow } from '../auth/user-store'
import { whereOf, type SqlArgs } from '../db/where'

/** What the /me endpoint shows, plus whether the account is active. */
const presentUser = (row: UserRow) => ({ ...userView(row), isActive: row.is_active === 1 })
export type AdminUser = ReturnType<typeof presentUser>

export type UserFilter = { search?: string; role?: Role; active?: boolean; before?: string; limit: number }

export async function listUsers(db: Database, filter: UserFilter) {
  const clauses: string[] = []
  const args: SqlArgs = []
  if (filter.search) {
    const n = args.push(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
    clauses.push(`(email LIKE ?${n} ESCAPE '\\' OR name LIKE ?${n} ESCAPE '\\')`)
  }
  if (filter.role) clauses.push(`role = ?${args.push(filter.role)}`)
  if (filter.active !== undefined) clauses.push(`is_active = ?${args.push(filter.active ? 1 : 0)}`)
  const total = db.query<{ n: number }, SqlArgs>(`SELECT count(*) AS n FROM users ${whereOf(clauses)}`).get(...args)!.n
  if (filter.before) clauses.push(`id < ?${args.push(filter.before)}`)
  const rows = db
    .query<UserRow, SqlArgs>(`SELECT * FROM users ${whereOf(clauses)} ORDER BY id DESC LIMIT ?${args.push(filter.limit)}`)
    .all(...args)
  return { total, items: rows.map(presentUser) }
}

const userById = (db: Database, id: string) => db.query<UserRow, [string]>('SELECT * FROM users WHERE id = ?').get(id)

export async function findUser(db: Database, id: string): Promise<AdminUser | undefined> {
  const row = userById(db, id)
  return row ? presentUser(row) : undefined
}

export type UserChange = { role?: Role; isActive?: boolean }

/**
 * Changes a user's role and active flag in one transaction; deactivating also revokes every
 * session and API key of the user, at once and for good. Returns the user as changed.
 */
export async function updateUser(db: Database, id: string, change: UserChange, now = Date.now()): Promise<AdminUser | undefined> {
  return db.transaction(() => {
    db.query('UPDATE users SET role = coalesce(?, role), is_active = coalesce(?, is_active) WHERE id = ?').run(
      change.role ?? null,
      change.isActive === undefined ? null : Number(change.isActive),
      id,
    )
    if (change.isActive === false) revokeCredentials(db, id, now)
    const row = userById(db, id)
    return row ? presentUser(row) : undefined
  })()
}

/** A request_logs row as the admin's log view reads it: with its user's email. */
type AdminLogRow = {
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
  outcome: string
}

const presentLog = (row: AdminLogRow) => ({
  id: row.id,
  requestId: row.request_id,
  createdAt: iso(row.created_at)!,
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
})

export type LogFilter = {
  userId?: string
  model?: string
  status?: number
  outcome?: string
  from?: number
  to?: number
  before?: number
  limit: number
}

const logSelect = `SELECT l.*, u.email AS user_email FROM request_logs l LEFT JOIN users u ON u.id = l.user_id`

/** Newest first. No total: counting millions of rows per page view is what makes peers slow. */
export async function listLogs(db: Database, filter: LogFilter) {
  const clauses: string[] = []
  const args: SqlArgs = []
  if (filter.userId) clauses.push(`l.user_id = ?${args.push(filter.userId)}`)
  if (filter.model) clauses.push(`l.model = ?${args.push(filter.model)}`)
  if (filter.status !== undefined) clauses.push(`l.status = ?${args.push(filter.status)}`)
  if (filter.outcome) clauses.push(`l.outcome = ?${args.push(filter.outcome)}`)
  if (filter.from !== undefined) clauses.push(`l.created_at >= ?${args.push(filter.from)}`)
  if (filter.to !== undefined) clauses.push(`l.created_at < ?${args.push(filter.to)}`)
  if (filter.before !== undefined) clauses.push(`l.id < ?${args.push(filter.before)}`)
  const rows = db
    .query<AdminLogRow, SqlArgs>(`${logSelect} ${whereOf(clauses)} ORDER BY l.id DESC LIMIT ?${args.push(filter.limit)}`)
    .all(...args)
  return rows.map(presentLog)
}

export async function findLog(db: Database, id: number) {
  const row = db.query<AdminLogRow, [number]>(`${logSelect} WHERE l.id = ?`).get(id)
  return row ? presentLog(row) : undefined
}

/** A feedback row as the admin's list reads it: with its user's email and the completion's model. */
type AdminFeedbackRow = {
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

export async function listFeedback(db: Database, filter: { rating?: number; before?: number; limit: number }) {
  const clauses: string[] = []
  const args: SqlArgs = []
  if (filter.rating !== undefined) clauses.push(`f.rating = ?${args.push(filter.rating)}`)
  const total = db.query<{ n: number }, SqlArgs>(`SELECT count(*) AS n FROM feedback f ${whereOf(clauses)}`).get(...args)!.n
  if (filter.before !== undefined) clauses.push(`f.id < ?${args.push(filter.before)}`)
  const rows = db
    .query<AdminFeedbackRow, SqlArgs>(
      `SELECT f.*, u.email AS user_email,
              (SELECT model FROM request_logs l WHERE l.completion_id = f.completion_id LIMIT 1) AS model
         FROM feedback f LEFT JOIN users u ON u.id = f.user_id
         ${whereOf(clauses)} ORDER BY f.id DESC LIMIT ?${args.push(filter.limit)}`,
    )
    .all(...args)
  return {
    total,
    items: rows.map((row) => ({
      id: row.id,
      completionId: row.completion_id,
      userId: row.user_id,
      userEmail: row.user_email,
      model: row.model,
      rating: row.rating,
      comment: row.comment,
      createdAt: iso(row.created_at)!,
      updatedAt: iso(row.updated_at)!,
    })),
  }
}
