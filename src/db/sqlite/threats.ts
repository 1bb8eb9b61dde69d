// The threat store on SQLite: the threats table, its rollup (rollup_threats) and
// sign_in_unblocks. A threat is recorded through the database's deferred writes
// (./deferred.ts), so that the request that raised it never waits for another process's
// write lock. Every change to threat rows adds its increments to rollup_threats in the same
// transaction, folded by ThreatRollup (src/db/rollups.ts): the store's own, and those of
// populate-dashboard-data (./populate.ts), which go through the functions here.
import type { Database } from 'bun:sqlite'
import { deferredWrites } from './deferred'
import { ThreatRollup, type CountedThreat } from '../rollups'
import type { MockThreat } from '../stores/populate'
import type { Threat, ThreatInput, ThreatStore, Unblock } from '../stores/threats'
import { whereOf, type SqlArgs } from './where'

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

/** Adds the fold's increments to rollup_threats; called inside the transaction that changed the threat rows. */
export function saveThreatRollup(db: Database, rollup: ThreatRollup) {
  const upsert = db.query(`
    INSERT INTO rollup_threats AS t (grain, bucket, type, severity, resolved, threats) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
    ON CONFLICT (grain, bucket, type, severity, resolved) DO UPDATE SET threats = t.threats + excluded.threats`)
  for (const cell of rollup.cells()) upsert.run(cell.grain, cell.bucket, cell.type, cell.severity, cell.resolved ? 1 : 0, cell.threats)
}

/** Adds populate-dashboard-data's threats and counts them in rollup_threats; called inside a transaction. */
export function addGeneratedThreats(db: Database, threats: MockThreat[]) {
  const insert = db.query<unknown, [string, string, string | null, string, string, number, number, number | null]>(
    `INSERT INTO threats (type, severity, user_id, address, detail, created_at, resolved, resolved_at, generated)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)`,
  )
  const rollup = new ThreatRollup()
  for (const t of threats) {
    const resolved = t.resolvedAt !== null
    insert.run(t.type, t.severity, t.userId, t.address, t.detail, t.createdAt, resolved ? 1 : 0, t.resolvedAt)
    rollup.add({ type: t.type, severity: t.severity, resolved, createdAt: t.createdAt })
  }
  saveThreatRollup(db, rollup)
}

/** Removes populate-dashboard-data's threats and takes them out of rollup_threats; called inside a transaction. Returns how many. */
export function deleteGeneratedThreats(db: Database): number {
  const deleted = db
    .query<{ type: string; severity: string; resolved: number; createdAt: number }, []>(
      'DELETE FROM threats WHERE generated = 1 RETURNING type, severity, resolved, created_at AS createdAt',
    )
    .all()
  const rollup = new ThreatRollup()
  for (const threat of deleted) rollup.add({ ...threat, resolved: threat.resolved !== 0 }, -1)
  saveThreatRollup(db, rollup)
  db.query('DELETE FROM rollup_threats WHERE threats <= 0').run()
  return deleted.length
}

export function sqliteThreats(db: Database): ThreatStore {
  const insert = db.query(
    `INSERT INTO threats (type, severity, user_id, api_key_id, address, detail, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  )
  // A transaction of its own (a savepoint inside the deferred writes' batch): the row and its
  // rollup cells are written together or not at all.
  const recordNow = db.transaction((threat: ThreatInput, at: number) => {
    insert.run(threat.type, threat.severity, threat.userId ?? null, threat.apiKeyId ?? null, threat.address ?? null, threat.detail.slice(0, 500), at)
    const rollup = new ThreatRollup()
    rollup.add({ type: threat.type, severity: threat.severity, resolved: false, createdAt: at })
    saveThreatRollup(db, rollup)
  })
  const resolveNow = db.transaction((id: number, resolvedBy: string, now: number) => {
    const changed = db
      .query<Omit<CountedThreat, 'resolved'>, [string, number, number]>(
        `UPDATE threats SET resolved = 1, resolved_by = ?, resolved_at = ? WHERE id = ? AND resolved = 0
         RETURNING type, severity, created_at AS createdAt`,
      )
      .get(resolvedBy, now, id)
    if (changed) {
      const rollup = new ThreatRollup()
      rollup.resolve(changed)
      saveThreatRollup(db, rollup)
    }
    return db.query<ThreatRow, [number]>('SELECT * FROM threats WHERE id = ?').get(id)
  })

  return {
    record(threat, at) {
      deferredWrites(db).add(() => recordNow(threat, at))
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
      const row = resolveNow(id, resolvedBy, now)
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
