// The threat store on PostgreSQL: the threats table, its rollup (rollup_threats) and
// sign_in_unblocks. A threat is recorded in the background (./background.ts), so that the
// request that raised it never waits: one write at a time, in the order recorded, each taking
// every threat recorded meanwhile (a flood of threats costs a transaction per batch, not per
// threat). This store's reads wait for those writes, so a process lists what it recorded, as on
// SQLite. Every change to threat rows adds its increments to rollup_threats in the same
// transaction, folded by ThreatRollup (src/db/rollups.ts): the store's own, and those of
// populate-dashboard-data, whose store calls the functions here inside its transactions.
import type { SQL } from 'bun'
import { ThreatRollup } from '../rollups'
import type { MockThreat } from '../stores/populate'
import type { Threat, ThreatInput, ThreatStore, Unblock } from '../stores/threats'
import type { BackgroundWrites } from './background'

type ThreatRow = {
  id: string
  type: Threat['type']
  severity: Threat['severity']
  user_id: string | null
  api_key_id: string | null
  address: string | null
  detail: string
  created_at: Date
  resolved: boolean
  resolved_by: string | null
  resolved_at: Date | null
}

const threatOf = (row: ThreatRow): Threat => ({
  id: Number(row.id),
  type: row.type,
  severity: row.severity,
  userId: row.user_id,
  apiKeyId: row.api_key_id,
  address: row.address,
  detail: row.detail,
  createdAt: row.created_at.getTime(),
  resolved: row.resolved,
  resolvedBy: row.resolved_by,
  resolvedAt: row.resolved_at?.getTime() ?? null,
})

/** Adds the fold's increments to rollup_threats; called inside the transaction that changed the threat rows. */
export async function saveThreatRollup(tx: SQL, rollup: ThreatRollup) {
  const cells = rollup.cells().map((cell) => ({ ...cell, bucket: new Date(cell.bucket) }))
  if (!cells.length) return
  await tx`INSERT INTO rollup_threats AS t ${tx(cells, 'grain', 'bucket', 'type', 'severity', 'resolved', 'threats')}
           ON CONFLICT (grain, bucket, type, severity, resolved) DO UPDATE SET threats = t.threats + excluded.threats`
}

/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters in one statement. */
const INSERT_ROWS = 5000

/** Adds populate-dashboard-data's threats and counts them in rollup_threats; called inside a transaction. */
export async function addGeneratedThreats(tx: SQL, threats: MockThreat[]) {
  const rows = threats.map((t) => ({
    type: t.type,
    severity: t.severity,
    user_id: t.userId,
    address: t.address,
    detail: t.detail,
    created_at: new Date(t.createdAt),
    resolved: t.resolvedAt !== null,
    resolved_at: t.resolvedAt === null ? null : new Date(t.resolvedAt),
    generated: true,
  }))
  for (let i = 0; i < rows.length; i += INSERT_ROWS) await tx`INSERT INTO threats ${tx(rows.slice(i, i + INSERT_ROWS))}`
  const rollup = new ThreatRollup()
  for (const t of threats) rollup.add({ type: t.type, severity: t.severity, resolved: t.resolvedAt !== null, createdAt: t.createdAt })
  await saveThreatRollup(tx, rollup)
}

/** Removes populate-dashboard-data's threats and takes them out of rollup_threats; called inside a transaction. Returns how many. */
export async function deleteGeneratedThreats(tx: SQL): Promise<number> {
  const deleted = await tx`DELETE FROM threats WHERE generated RETURNING type, severity, resolved, created_at`
  const rollup = new ThreatRollup()
  for (const threat of deleted as { type: string; severity: string; resolved: boolean; created_at: Date }[])
    rollup.add({ type: threat.type, severity: threat.severity, resolved: threat.resolved, createdAt: threat.created_at.getTime() }, -1)
  await saveThreatRollup(tx, rollup)
  await tx`DELETE FROM rollup_threats WHERE threats <= 0`
  return deleted.length
}

export function postgresThreats(sql: SQL, background: BackgroundWrites): ThreatStore {
  /** Threats recorded and not yet taken by a write. */
  const waiting: { threat: ThreatInput; at: number }[] = []
  /** The latest write: writes run one after another, each taking every threat waiting then. */
  let written: Promise<unknown> = Promise.resolve()

  /** Writes the threats in the order recorded (ids follow it), with their rollup cells, in one transaction. */
  const writeWaiting = () => {
    const batch = waiting.splice(0)
    const rows = batch.map(({ threat, at }) => ({
      type: threat.type,
      severity: threat.severity,
      user_id: threat.userId ?? null,
      api_key_id: threat.apiKeyId ?? null,
      address: threat.address ?? null,
      detail: threat.detail.slice(0, 500),
      created_at: new Date(at),
    }))
    return sql.begin(async (tx) => {
      await tx`INSERT INTO threats ${tx(rows)}`
      const rollup = new ThreatRollup()
      for (const { threat, at } of batch) rollup.add({ type: threat.type, severity: threat.severity, resolved: false, createdAt: at })
      await saveThreatRollup(tx, rollup)
    })
  }

  /** Until every threat recorded so far is written (or its write has failed, and was reported). */
  const recorded = () => written.catch(() => {})

  return {
    record(threat, at) {
      waiting.push({ threat, at })
      // The first threat waiting queues a write after the current one; later ones join it.
      if (waiting.length === 1) background.add('threats', () => (written = written.then(writeWaiting, writeWaiting)))
    },

    async list(filter) {
      await recorded()
      const matching = sql`WHERE true
        ${filter.type ? sql`AND type = ${filter.type}` : sql``}
        ${filter.severity ? sql`AND severity = ${filter.severity}` : sql``}
        ${filter.resolved !== undefined ? sql`AND resolved = ${filter.resolved}` : sql``}`
      const [[{ total }], rows] = await Promise.all([
        sql`SELECT count(*)::int AS total FROM threats ${matching}`,
        sql`SELECT * FROM threats ${matching} ${filter.beforeId !== undefined ? sql`AND id < ${filter.beforeId}` : sql``}
            ORDER BY id DESC LIMIT ${filter.limit}`,
      ])
      return { total, items: (rows as ThreatRow[]).map(threatOf) }
    },

    async resolve(id, resolvedBy, now) {
      await recorded()
      const row = await sql.begin(async (tx) => {
        const [changed] = await tx`
          UPDATE threats SET resolved = true, resolved_by = ${resolvedBy}, resolved_at = ${new Date(now)}
           WHERE id = ${id} AND NOT resolved RETURNING type, severity, created_at`
        if (changed) {
          const rollup = new ThreatRollup()
          rollup.resolve({ type: changed.type, severity: changed.severity, createdAt: changed.created_at.getTime() })
          await saveThreatRollup(tx, rollup)
        }
        return (await tx`SELECT * FROM threats WHERE id = ${id}`)[0] as ThreatRow | undefined
      })
      return row ? threatOf(row) : undefined
    },

    async requestUnblock(unblock, now, keepMs) {
      await sql.begin(async (tx) => {
        // One request at a time, so that ids are committed in order: a server that has read up
        // to one id never misses a smaller one committed after it (the lock lets readers through).
        await tx`LOCK TABLE sign_in_unblocks IN SHARE ROW EXCLUSIVE MODE`
        await tx`DELETE FROM sign_in_unblocks WHERE created_at < ${new Date(now - keepMs)}`
        await tx`INSERT INTO sign_in_unblocks (email, address, created_at) VALUES (${unblock.email}, ${unblock.address}, ${new Date(now)})`
      })
    },

    async newestUnblockId() {
      const [{ id }] = await sql`SELECT coalesce(max(id), 0)::float8 AS id FROM sign_in_unblocks`
      return id
    },

    async unblocksAfter(id) {
      const rows = await sql`SELECT id, email, address FROM sign_in_unblocks WHERE id > ${id} ORDER BY id`
      return (rows as (Unblock & { id: string })[]).map((row) => ({ ...row, id: Number(row.id) }))
    },
  }
}
