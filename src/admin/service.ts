// What the admin API does, between its routes (./index.ts, ./threats.ts) and its store
// (rt.store.admin, and rt.store.threats for the threat log): pages of users, request logs,
// feedback and threats, resolving a threat, and the one change an admin makes to a user, with
// its rules. The store's times are ms; the API's are ISO strings.
import type { AdminApiKey, AdminFeedback, AdminLog, AdminUser, LogFilter, UserChange, UserFilter } from '../db/stores/admin'
import { parseDate } from '../http/dates'
import { HttpError } from '../http/errors'
import { iso, withCursor } from '../http/schema'
import type { Runtime } from '../runtime'
import { API_PATHS, type Api } from '../telemetry/apis'
import { presentThreat } from '../threats/present'
import type { ThreatFilter } from '../threats/store'
import { principalsChanged } from '../auth/principal-cache'
import { recordAudit, type AuditOrigin } from '../audit/service'
import type { KeyLimits } from '../db/stores/keys'
import { apiKeyView } from '../keys/model'
import { revokeKey, setKeyLimits } from '../keys/service'

const PAGE_SIZE = 50

type Page = { limit?: number }

const userView = (user: AdminUser) => ({ ...user, createdAt: iso(user.createdAt)!, lastLoginAt: iso(user.lastLoginAt) })
const logView = (log: AdminLog) => ({ ...log, createdAt: iso(log.createdAt)! })
const feedbackView = (feedback: AdminFeedback) => ({
  ...feedback,
  createdAt: iso(feedback.createdAt)!,
  updatedAt: iso(feedback.updatedAt)!,
})

export async function usersPage(rt: Runtime, query: Omit<UserFilter, 'before' | 'limit'> & Page & { cursor?: string }) {
  const size = query.limit ?? PAGE_SIZE
  const { total, items } = await rt.store.admin.listUsers({ ...query, before: query.cursor, limit: size })
  // Admins manage users, not read their chats: of conversations, the list shows counts only.
  const conversations = await rt.store.conversations.countByUser(items.map((user) => user.id))
  return withCursor({ total, items: items.map((user) => ({ ...userView(user), conversations: conversations.get(user.id) ?? 0 })) }, size)
}

/**
 * Changes a user's role or active flag. Admins cannot demote or deactivate themselves;
 * deactivation revokes the user's sessions and API keys (in the same transaction).
 */
export async function changeUser(rt: Runtime, origin: AuditOrigin, userId: string, change: UserChange) {
  const before = await rt.store.admin.findUser(userId)
  if (!before) throw new HttpError(404, 'No user has this id')
  if (userId === origin.actorUserId && (change.role === 'user' || change.isActive === false))
    throw new HttpError(409, 'Admins cannot demote or deactivate themselves')
  const changed = (await rt.store.admin.updateUser(userId, change, Date.now()))!
  await principalsChanged(rt, userId)
  auditUserChange(rt, origin, before, changed)
  return userView(changed)
}

/** One audit entry per value that changed (setting a value to what it was records nothing). */
function auditUserChange(rt: Runtime, origin: AuditOrigin, before: AdminUser, after: AdminUser) {
  const target = { targetType: 'user', targetId: after.id }
  if (before.role !== after.role) recordAudit(rt, origin, { action: 'user.role_changed', ...target, before: { role: before.role }, after: { role: after.role } })
  if (before.isActive !== after.isActive)
    recordAudit(rt, origin, { action: after.isActive ? 'user.activated' : 'user.deactivated', ...target, before: { isActive: before.isActive }, after: { isActive: after.isActive } })
  if (before.maxConcurrentRequests !== after.maxConcurrentRequests)
    recordAudit(rt, origin, { action: 'user.concurrency_cap_set', ...target, before: { maxConcurrentRequests: before.maxConcurrentRequests }, after: { maxConcurrentRequests: after.maxConcurrentRequests } })
}

function millis(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDate(value)
  if (Number.isNaN(ms)) throw new HttpError(400, `Invalid query field '${field}': expected an ISO date`)
  return ms
}

type LogQuery = Omit<LogFilter, 'from' | 'to' | 'before' | 'limit' | 'paths'> & Page & { api?: Api; from?: string; to?: string; cursor?: number }

/** Sets an API key's own cap on requests in progress and its own limits (those given); they apply to its next request. */
export async function changeKey(rt: Runtime, origin: AuditOrigin, keyId: string, change: { maxConcurrentRequests?: number | null } & Partial<KeyLimits>) {
  const { maxConcurrentRequests, ...limits } = change
  const changed: { id: string; maxConcurrentRequests?: number | null } & Partial<KeyLimits> = { id: keyId }
  if (maxConcurrentRequests !== undefined) {
    const userId = await rt.store.admin.setKeyConcurrency(keyId, maxConcurrentRequests)
    if (!userId) throw new HttpError(404, 'No API key has this id')
    await principalsChanged(rt, userId)
    // The store does not say what the cap was: the entry has the value set, and the key's user.
    recordAudit(rt, origin, { action: 'api_key.concurrency_cap_set', targetType: 'api_key', targetId: keyId, after: { maxConcurrentRequests, userId } })
    changed.maxConcurrentRequests = maxConcurrentRequests
  }
  if (Object.keys(limits).length) Object.assign(changed, await setKeyLimits(rt, origin, keyId, limits))
  return changed
}

/** Request logs between the ISO dates `from` (inclusive) and `to`, newest first. */
export async function logsPage(rt: Runtime, query: LogQuery) {
  const size = query.limit ?? PAGE_SIZE
  const logs = await rt.store.admin.listLogs({
    userId: query.userId,
    model: query.model,
    paths: query.api ? API_PATHS[query.api] : undefined,
    status: query.status,
    outcome: query.outcome,
    from: millis(query.from, 'from'),
    to: millis(query.to, 'to'),
    before: query.cursor,
    limit: size,
  })
  return withCursor({ items: logs.map(logView) }, size)
}

export async function logById(rt: Runtime, id: number) {
  const log = await rt.store.admin.findLog(id)
  if (!log) throw new HttpError(404, 'No request log has this id')
  return logView(log)
}

export async function feedbackPage(rt: Runtime, query: Page & { rating?: number; cursor?: number }) {
  const size = query.limit ?? PAGE_SIZE
  const { total, items } = await rt.store.admin.listFeedback({ rating: query.rating, before: query.cursor, limit: size })
  return withCursor({ total, items: items.map(feedbackView) }, size)
}

export async function threatsPage(rt: Runtime, query: Omit<ThreatFilter, 'beforeId' | 'limit'> & Page & { cursor?: number }) {
  const size = query.limit ?? PAGE_SIZE
  const { type, severity, resolved, cursor } = query
  const { total, items } = await rt.store.threats.list({ type, severity, resolved, beforeId: cursor, limit: size })
  return withCursor({ total, items: items.map(presentThreat) }, size)
}

/** Marks the threat resolved by the admin with this email. */
export async function resolveThreatAs(rt: Runtime, id: number, adminEmail: string, origin: AuditOrigin) {
  const resolved = await rt.store.threats.resolve(id, adminEmail, Date.now())
  if (!resolved) throw new HttpError(404, 'No threat has this id')
  recordAudit(rt, origin, { action: 'threat.resolved', targetType: 'threat', targetId: String(id), before: { resolved: false }, after: { resolved: true, resolvedBy: adminEmail } })
  return presentThreat(resolved)
}

/**
 * Deletes a user with what belongs to them; never the admin asking, nor the last active admin.
 * Each feature's rows go by its own schema's ON DELETE CASCADE (see AccountStore.deleteUser),
 * not by a service function per feature: one statement, in one transaction, so a failure midway
 * cannot leave half an account, a feature added later declares its own rule in its migration,
 * and no store reaches into another feature's tables. The request log and the audit trail keep
 * the user's id (history): a log row's user shows as that id, with no email, from then on; this
 * entry's `before` says whose id it was.
 */
export async function deleteUser(rt: Runtime, origin: AuditOrigin, userId: string): Promise<void> {
  if (userId === origin.actorUserId) throw new HttpError(409, 'Admins cannot delete themselves')
  const deletion = await rt.store.accounts.deleteUser(userId)
  if (deletion.outcome === 'not_found') throw new HttpError(404, 'No user has this id')
  if (deletion.outcome === 'last_admin') throw new HttpError(409, 'The last active admin cannot be deleted')
  await principalsChanged(rt, userId)
  const { email, name, role, isActive, provider } = deletion.user
  recordAudit(rt, origin, { action: 'user.deleted', targetType: 'user', targetId: userId, before: { email, name, role, isActive, provider } })
}

const adminKeyView = (key: AdminApiKey) => ({ ...apiKeyView(key), userId: key.userId, userEmail: key.userEmail, revokedAt: iso(key.revokedAt) })

/** Every user's API keys (or one user's), revoked ones included, newest first. */
export async function keysPage(rt: Runtime, query: Page & { userId?: string; cursor?: string }) {
  const size = query.limit ?? PAGE_SIZE
  const keys = await rt.store.admin.listKeys({ userId: query.userId, before: query.cursor, limit: size })
  return withCursor({ items: keys.map(adminKeyView) }, size)
}

/** Revokes any user's API key, through the keys feature's own revocation (audited as api_key.revoked). */
export async function revokeUserKey(rt: Runtime, origin: AuditOrigin, keyId: string) {
  const key = await rt.store.admin.findKey(keyId)
  if (!key) throw new HttpError(404, 'No API key has this id', { code: 'api_key_not_found' })
  if (key.revokedAt !== null) throw new HttpError(409, 'This API key is revoked already')
  await revokeKey(rt, key.userId, keyId, origin)
  return adminKeyView((await rt.store.admin.findKey(keyId))!)
}
