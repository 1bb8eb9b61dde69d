// The threat store on PostgreSQL: the threats table, its rollup (rollup_threats) and
// sign_in_unblocks. A threat is recorded in the background (./background.ts), so that the
// request that raised it never waits: one write at a time, in the order recorded, each taking
// every threat recorded meanwhile (a flood of threats costs a transaction per batch, not per
// threat). This store's reads wait for those writes, so a process lists what it recorded, as on
// SQLite. Every change to threat rows adds its increments to rollup_threats in the same
// transaction, folded by ThreatRollup (src/db/rollups.ts): the store's own, and those of
// populate-dashboard-data, whose store calls the functions here inside its transactions.
import type { SQL } from 'bun'
import { ThreatRollup, type ThreatCell } from '../rollups'
import { bulkInsert, rollupUpsert } from './bulk'
import type { MockThreat } from '../stores/populate'
import type { Threat, ThreatInput, ThreatStore, Unblock } from '../stores/threats'
import { databaseUnreachable } from '../../http/errors'
import { Backoff } from '../busy'
import type { BackgroundWrites } from './background'

/** Threats kept at most while the database refuses them: past this, the oldest go (and are said to). */
const MAX_WAITING = 10_000

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

const addThreatCells = rollupUpsert<ThreatCell>(
  'rollup_threats',
  {
    grain: ['integer', (cell) => cell.grain],
    bucket: ['timestamptz', (cell) => cell.bucket],
    type: ['text', (cell) => cell.type],
    severity: ['text', (cell) => cell.severity],
    resolved: ['boolean', (cell) => cell.resolved],
  },
  { threats: ['bigint', (cell) => cell.threats] },
)

/** Adds the fold's increments to rollup_threats; called inside the transaction that changed the threat rows. */
export const saveThreatRollup = (tx: SQL, rollup: ThreatRollup) => addThreatCells(tx, rollup.cells())

const insertGenerated = bulkInsert<MockThreat>('threats', {
  type: ['text', (t) => t.type],
  severity: ['text', (t) => t.severity],
  user_id: ['text', (t) => t.userId],
  address: ['text', (t) => t.address],
  detail: ['text', (t) => t.detail],
  created_at: ['timestamptz', (t) => new Date(t.createdAt)],
  resolved: ['boolean', (t) => t.resolvedAt !== null],
  resolved_at: ['timestamptz', (t) => (t.resolvedAt === null ? null : new Date(t.resolvedAt))],
  generated: ['boolean', () => true],
})

/** Threats as recorded, in their order (the ids follow it). */
const insertRecorded = bulkInsert<{ threat: ThreatInput; at: number }>('threats', {
  type: ['text', ({ threat }) => threat.type],
  severity: ['text', ({ threat }) => threat.severity],
  user_id: ['text', ({ threat }) => threat.userId ?? null],
  api_key_id: ['text', ({ threat }) => threat.apiKeyId ?? null],
  address: ['text', ({ threat }) => threat.address ?? null],
  detail: ['text', ({ threat }) => threat.detail.slice(0, 500)],
  created_at: ['timestamptz', ({ at }) => new Date(at)],
})

/** Adds populate-dashboard-data's threats and counts them in rollup_threats; called inside a transaction. */
export async function addGeneratedThreats(tx: SQL, threats: MockThreat[]) {
  await insertGenerated(tx, threats)
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

  const backoff = new Backoff()

  /** Queues a write of everything waiting after the current one (later threats join it). */
  const writeSoon = () => void background.add(() => (written = written.then(writeWaiting, writeWaiting)), 'threats')

  /**
   * Writes the threats in the order recorded (ids follow it), with their rollup cells, in one
   * transaction. A batch that cannot reach the database goes back to the front
   * and is tried again with backoff; past MAX_WAITING threats the oldest are dropped (said so).
   */
  const writeWaiting = async () => {
    const batch = waiting.splice(0)
    if (!batch.length) return
    try {
      await sql.begin(async (tx) => {
        await insertRecorded(tx, batch)
        const rollup = new ThreatRollup()
        for (const { threat, at } of batch) rollup.add({ type: threat.type, severity: threat.severity, resolved: false, createdAt: at })
        await saveThreatRollup(tx, rollup)
      })
      backoff.reset()
    } catch (error) {
      // A refusal (a constraint, a full disk) is reported and not retried, as on SQLite.
      if (!databaseUnreachable(error)) throw error
      const dropped = Math.max(0, batch.length + waiting.length - MAX_WAITING)
      if (dropped) console.error(`threats: dropped the ${dropped} oldest while the database refuses them`)
      waiting.unshift(...batch.slice(dropped))
      setTimeout(writeSoon, backoff.next()).unref?.()
      throw error
    }
  }

  /** Until every threat recorded so far is written (or its write has failed, and was reported). */
  const recorded = () => written.catch(() => {})

  return {
    record(threat, at) {
      waiting.push({ threat, at })
      // The first threat waiting queues a write after the current one; later ones join it.
      if (waiting.length === 1 && !backoff.waiting) writeSoon()
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
