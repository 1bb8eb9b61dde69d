// The audit trail (../stores/audit.ts) on PostgreSQL: the audit_log table (migration 0019),
// whose trigger refuses every UPDATE. `before` and `after` are JSON text.
import type { SQL } from 'bun'
import type { AuditStore, StoredAuditEntry } from '../stores/audit'

type Row = {
  id: string | number
  at: Date
  action: string
  actor_user_id: string | null
  actor_email: string | null
  target_type: string | null
  target_id: string | null
  ip: string | null
  request_id: string | null
  before: string | null
  after: string | null
}

const json = (value: Record<string, unknown> | null) => (value === null ? null : JSON.stringify(value))

const entryOf = (row: Row): StoredAuditEntry => ({
  id: Number(row.id),
  at: row.at.getTime(),
  action: row.action,
  actorUserId: row.actor_user_id,
  actorEmail: row.actor_email,
  targetType: row.target_type,
  targetId: row.target_id,
  ip: row.ip,
  requestId: row.request_id,
  before: row.before === null ? null : JSON.parse(row.before),
  after: row.after === null ? null : JSON.parse(row.after),
})

export function postgresAudit(sql: SQL): AuditStore {
  return {
    async append(entries) {
      if (!entries.length) return
      await sql.begin(async (tx) => {
        for (const e of entries)
          await tx`
            INSERT INTO audit_log (at, action, actor_user_id, actor_email, target_type, target_id, ip, request_id, before, after)
            VALUES (${new Date(e.at)}, ${e.action}, ${e.actorUserId}, ${e.actorEmail}, ${e.targetType}, ${e.targetId}, ${e.ip},
                    ${e.requestId}, ${json(e.before)}, ${json(e.after)})`
      })
    },
    async list(filter) {
      const rows = await sql`
        SELECT * FROM audit_log WHERE true
          ${filter.action !== undefined ? sql`AND action = ${filter.action}` : sql``}
          ${filter.actorUserId !== undefined ? sql`AND actor_user_id = ${filter.actorUserId}` : sql``}
          ${filter.targetType !== undefined ? sql`AND target_type = ${filter.targetType}` : sql``}
          ${filter.targetId !== undefined ? sql`AND target_id = ${filter.targetId}` : sql``}
          ${filter.from !== undefined ? sql`AND at >= ${new Date(filter.from)}` : sql``}
          ${filter.to !== undefined ? sql`AND at < ${new Date(filter.to)}` : sql``}
          ${filter.beforeId !== undefined ? sql`AND id < ${filter.beforeId}` : sql``}
        ORDER BY id DESC LIMIT ${filter.limit}`
      return (rows as Row[]).map(entryOf)
    },
    async pruneBefore(before, limit) {
      const result = await sql`
        DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ${new Date(before)} ORDER BY id LIMIT ${limit})`
      return result.count
    },
  }
}
