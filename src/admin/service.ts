// What the admin API does, between its routes (./index.ts, ./threats.ts) and its storage (its SQL
// in ./store.ts, and the threat store, rt.store.threats, for the threat log): pages of users, request logs, feedback and
// threats, resolving a threat, and the one change an admin makes to a user, with its rules.
import type { Database } from 'bun:sqlite'
import { parseDate } from '../http/dates'
import { HttpError } from '../http/errors'
import { withCursor } from '../http/schema'
import { presentThreat } from '../threats/present'
import type { ThreatFilter, ThreatStore } from '../threats/store'
import { findLog, findUser, listFeedback, listLogs, listUsers, updateUser, type LogFilter, type UserChange, type UserFilter } from './store'

const PAGE_SIZE = 50

type Page = { limit?: number }

export async function usersPage(db: Database, query: Omit<UserFilter, 'before' | 'limit'> & Page & { cursor?: string }) {
  const size = query.limit ?? PAGE_SIZE
  return withCursor(await listUsers(db, { ...query, before: query.cursor, limit: size }), size)
}

/**
 * Changes a user's role or active flag. Admins cannot demote or deactivate themselves;
 * deactivation revokes the user's sessions and API keys (in the same transaction).
 */
export async function changeUser(db: Database, adminId: string, userId: string, change: UserChange) {
  if (!(await findUser(db, userId))) throw new HttpError(404, 'No user has this id')
  if (userId === adminId && (change.role === 'user' || change.isActive === false))
    throw new HttpError(409, 'Admins cannot demote or deactivate themselves')
  return (await updateUser(db, userId, change))!
}

function millis(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDate(value)
  if (Number.isNaN(ms)) throw new HttpError(400, `Invalid query field '${field}': expected an ISO date`)
  return ms
}

type LogQuery = Omit<LogFilter, 'from' | 'to' | 'before' | 'limit'> & Page & { from?: string; to?: string; cursor?: number }

/** Request logs between the ISO dates `from` (inclusive) and `to`, newest first. */
export async function logsPage(db: Database, query: LogQuery) {
  const size = query.limit ?? PAGE_SIZE
  const items = await listLogs(db, {
    userId: query.userId,
    model: query.model,
    status: query.status,
    outcome: query.outcome,
    from: millis(query.from, 'from'),
    to: millis(query.to, 'to'),
    before: query.cursor,
    limit: size,
  })
  return withCursor({ items }, size)
}

export async function logById(db: Database, id: number) {
  const log = await findLog(db, id)
  if (!log) throw new HttpError(404, 'No request log has this id')
  return log
}

export async function feedbackPage(db: Database, query: Page & { rating?: number; cursor?: number }) {
  const size = query.limit ?? PAGE_SIZE
  return withCursor(await listFeedback(db, { rating: query.rating, before: query.cursor, limit: size }), size)
}

export async function threatsPage(threats: ThreatStore, query: Omit<ThreatFilter, 'beforeId' | 'limit'> & Page & { cursor?: number }) {
  const size = query.limit ?? PAGE_SIZE
  const { type, severity, resolved, cursor } = query
  const { total, items } = await threats.list({ type, severity, resolved, beforeId: cursor, limit: size })
  return withCursor({ total, items: items.map(presentThreat) }, size)
}

/** Marks the threat resolved by the admin with this email. */
export async function resolveThreatAs(threats: ThreatStore, id: number, adminEmail: string) {
  const resolved = await threats.resolve(id, adminEmail, Date.now())
  if (!resolved) throw new HttpError(404, 'No threat has this id')
  return presentThreat(resolved)
}
