// The threat store on SQLite: the threats table and sign_in_unblocks. A threat is recorded
// through the database's deferred writes (src/db/deferred.ts), so that the request that raised
// it never waits for another process's write lock.
import type { Database } from 'bun:sqlite'
import { deferredWrites } from '../deferred'
import type { Threat, ThreatStore, Unblock } from '../stores/threats'
import { whereOf, type SqlArgs } from '../where'

type ThreatRow = {
  id: number
  type: Threat['type']
  severity: Threat['severity']
  user_id: string | null
  api_key_id: string | null
  address: string | null
  detail: string
  created_at: number
  resolved: number
  resolved_by: string | null
  resolved_at: number | null
}

const threatOf = (row: ThreatRow): Threat => ({
  id: row.id,
  type: row.type,
  severity: row.severity,
  userId: row.user_id,
  apiKeyId: row.api_key_id,
  address: row.address,
  detail: row.detail,
  createdAt: row.created_at,
  resolved: row.resolved === 1,
  resolvedBy: row.resolved_by,
  resolvedAt: row.resolved_at,
})

export function sqliteThreats(db: Database): ThreatStore {
  return {
    record(threat, at) {
      const insert = db.query(
        `INSERT INTO threats (type, severity, user_id, api_key_id, address, detail, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      deferredWrites(db).add(() =>
        insert.run(
          threat.type,
          threat.severity,
          threat.userId ?? null,
          threat.apiKeyId ?? null,
          threat.address ?? null,
          threat.detail.slice(0, 500),
          at,
        ),
      )
    },

    async list(filter) {
      const clauses: string[] = []
      const args: SqlArgs = []
      if (filter.type) clauses.push(`type = ?${args.push(filter.type)}`)
      if (filter.severity) clauses.push(`severity = ?${args.push(filter.severity)}`)
      if (filter.resolved !== undefined) clauses.push(`resolved = ?${args.push(filter.resolved ? 1 : 0)}`)
      const total = db.query<{ n: number }, SqlArgs>(`SELECT count(*) AS n FROM threats ${whereOf(clauses)}`).get(...args)!.n
      if (filter.beforeId !== undefined) clauses.push(`id < ?${args.push(filter.beforeId)}`)
      const rows = db
        .query<ThreatRow, SqlArgs>(`SELECT * FROM threats ${whereOf(clauses)} ORDER BY id DESC LIMIT ?${args.push(filter.limit)}`)
        .all(...args)
      return { total, items: rows.map(threatOf) }
    },

    async resolve(id, resolvedBy, now) {
      db.query('UPDATE threats SET resolved = 1, resolved_by = ?, resolved_at = ? WHERE id = ? AND resolved = 0').run(
        resolvedBy,
        now,
        id,
      )
      const row = db.query<ThreatRow, [number]>('SELECT * FROM threats WHERE id = ?').get(id)
      return row ? threatOf(row) : undefined
    },

    async requestUnblock(unblock, now, keepMs) {
      db.transaction(() => {
        db.query('DELETE FROM sign_in_unblocks WHERE created_at < ?').run(now - keepMs)
        db.query('INSERT INTO sign_in_unblocks (email, address, created_at) VALUES (?, ?, ?)').run(unblock.email, unblock.address, now)
      })()
    },

    async newestUnblockId() {
      return db.query<{ id: number | null }, []>('SELECT max(id) AS id FROM sign_in_unblocks').get()!.id ?? 0
    },

    async unblocksAfter(id) {
      return db.query<Unblock & { id: number }, [number]>('SELECT id, email, address FROM sign_in_unblocks WHERE id > ? ORDER BY id').all(id)
    },
  }
}
