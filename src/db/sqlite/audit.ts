// The audit trail (../stores/audit.ts) on SQLite: the audit_log table (migration 0019), whose
// trigger refuses every UPDATE. `before` and `after` are JSON text.
import type { Database } from 'bun:sqlite'
import type { AuditEntry, AuditStore, StoredAuditEntry } from '../stores/audit'

type Row = {
  id: number
  at: number
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
  id: row.id,
  at: row.at,
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

export function sqliteAudit(db: Database): AuditStore {
  const insert = db.query(
    `INSERT INTO audit_log (at, action, actor_user_id, actor_email, target_type, target_id, ip, request_id, before, after)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const appendAll = db.transaction((entries: AuditEntry[]) => {
    for (const e of entries)
      insert.run(e.at, e.action, e.actorUserId, e.actorEmail, e.targetType, e.targetId, e.ip, e.requestId, json(e.before), json(e.after))
  })
  const prune = db.query('DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY id LIMIT ?)')

  return {
    async append(entries) {
      if (entries.length) appendAll.immediate(entries)
    },
    async list(filter) {
      const where: string[] = []
      const values: (string | number)[] = []
      const add = (clause: string, value: string | number | undefined) => {
        if (value === undefined) return
        where.push(clause)
        values.push(value)
      }
      add('action = ?', filter.action)
      add('actor_user_id = ?', filter.actorUserId)
      add('target_type = ?', filter.targetType)
      add('target_id = ?', filter.targetId)
      add('at >= ?', filter.from)
      add('at < ?', filter.to)
      add('id < ?', filter.beforeId)
      const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
      return db.query<Row, (string | number)[]>(sql).all(...values, filter.limit).map(entryOf)
    },
    async pruneBefore(before, limit) {
      return prune.run(before, limit).changes
    },
  }
}
