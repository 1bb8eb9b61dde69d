// The raw reads and writes that tests need and no store offers: whole-table counts and sums,
// the rollups recomputed from the raw log and the threats, threats put in at given times
// (through the stores) and retyped (as a store would). In one place, so that the test files
// build no SQL and reach into no database handle themselves. Each runs on SQLite and on PostgreSQL (./raw.ts).
import type { Runtime } from '../../src/runtime'
import { handleOf } from '../../src/db/open'
import { ThreatRollup, type CountedThreat } from '../../src/db/rollups'
import { saveThreatRollup as savePostgresThreatRollup } from '../../src/db/postgres/threats'
import { saveThreatRollup as saveSqliteThreatRollup } from '../../src/db/sqlite/threats'
import type { Severity, ThreatType } from '../../src/threats/store'
import { dialectOf, raw } from './raw'
import { recordedThreats } from './threats'

/** How many rows of `table` match `where` (SQL written by the test helper's callers as a constant, in both dialects). */
export const countRows = async (rt: Runtime, table: string, where = 'true') =>
  (await raw<{ n: number }>(rt, { sqlite: `SELECT count(*) AS n FROM ${table} WHERE ${where}`, postgres: `SELECT count(*)::int AS n FROM ${table} WHERE ${where}` }))[0]!.n

/** The sum of one column over a whole table (null for no rows). */
export const sumColumn = async (rt: Runtime, table: string, column: string) =>
  (await raw<{ n: number | null }>(rt, { sqlite: `SELECT sum(${column}) AS n FROM ${table}`, postgres: `SELECT sum(${column})::float8 AS n FROM ${table}` }))[0]!.n

/** The distinct values of one column of a table. */
export const distinctValues = async (rt: Runtime, table: string, column: string) =>
  (await raw<{ value: string }>(rt, `SELECT DISTINCT ${column} AS value FROM ${table}`)).map((row) => row.value)

/** The id of one user made by populate-dashboard-data. */
export const someGeneratedUserId = async (rt: Runtime) =>
  (await raw<{ id: string }>(rt, { sqlite: 'SELECT id FROM users WHERE generated = 1 LIMIT 1', postgres: 'SELECT id FROM users WHERE generated LIMIT 1' }))[0]!.id

export type ThreatRow = {
  type: ThreatType
  severity: Severity
  userId: string | null
  createdAt: number
  resolved: boolean
  /** Made by populate-dashboard-data (added and removed by its store) rather than by the monitor. */
  generated?: boolean
}

let threatsInserted = 0

/**
 * Puts threats in the log at the times given (the monitor would stamp them now), through the
 * stores, which keep rollup_threats: the threat store records them and resolves the resolved
 * ones; the generated ones go through populate-dashboard-data's store.
 */
export async function insertThreatRows(rt: Runtime, rows: ThreatRow[]) {
  const generated = rows.filter((row) => row.generated)
  if (generated.length)
    await rt.store.populate.insertThreats(
      generated.map((row) => ({ ...row, address: '192.0.2.1', detail: 'generated', resolvedAt: row.resolved ? row.createdAt : null })),
    )
  const recorded = rows.filter((row) => !row.generated).map((row) => ({ ...row, detail: `inserted by a test (${++threatsInserted})` }))
  for (const row of recorded) rt.store.threats.record({ type: row.type, severity: row.severity, userId: row.userId ?? undefined, detail: row.detail }, row.createdAt)
  const resolve = new Set(recorded.filter((row) => row.resolved).map((row) => row.detail))
  // The store lists what it has recorded: these threats are written by now.
  for (const threat of await recordedThreats(rt))
    if (resolve.has(threat.detail)) await rt.store.threats.resolve(threat.id, 'admin@example.com', threat.createdAt)
}

/** Changes every threat of one severity: resolves it (as an admin does) or gives it another type. */
export const threatsOfSeverity = (rt: Runtime, severity: Severity) => ({
  resolve: async (now: number) => {
    for (const threat of await recordedThreats(rt, { severity, resolved: false })) await rt.store.threats.resolve(threat.id, 'admin@example.com', now)
  },
  /**
   * No store changes a threat's type. This changes the rows, and moves their counts in
   * rollup_threats as a store would: by the stores' own fold and writer, in one transaction.
   */
  retype: async (type: string) => {
    /** Each threat's count, taken out of its cells and added to those of its new type. */
    const moved = (threats: CountedThreat[]) => {
      const rollup = new ThreatRollup()
      for (const threat of threats) {
        rollup.add(threat, -1)
        rollup.add({ ...threat, type })
      }
      return rollup
    }
    const handle = handleOf(rt.store)
    if (handle.dialect === 'sqlite')
      return handle.db.transaction(() => {
        const threats = handle.db
          .query<Omit<CountedThreat, 'resolved'> & { resolved: number }, [string]>(
            'SELECT type, severity, resolved, created_at AS createdAt FROM threats WHERE severity = ?',
          )
          .all(severity)
        handle.db.query('UPDATE threats SET type = ? WHERE severity = ?').run(type, severity)
        saveSqliteThreatRollup(handle.db, moved(threats.map((threat) => ({ ...threat, resolved: threat.resolved !== 0 }))))
      })()
    await handle.sql.begin(async (tx) => {
      const threats = await tx`SELECT type, severity, resolved, created_at FROM threats WHERE severity = ${severity} FOR UPDATE`
      await tx`UPDATE threats SET type = ${type} WHERE severity = ${severity}`
      await savePostgresThreatRollup(tx, moved(threats.map((row: CountedThreat & { created_at: Date }) => ({ ...row, createdAt: row.created_at.getTime() }))))
    })
  },
})

/** rollup_threats recomputed from the threats table with GROUP BY; returns the cells that differ (at most ten). */
export async function threatRollupDisagreeingWithThreats(rt: Runtime) {
  const grains = '(SELECT 3600000 AS grain UNION ALL SELECT 86400000) g'
  const key = (row: Record<string, unknown>) => JSON.stringify(Object.values(row).map((value) => (typeof value === 'boolean' ? Number(value) : value)))
  const stored = (await raw(rt, {
    sqlite: 'SELECT grain, bucket, type, severity, resolved, threats FROM rollup_threats WHERE threats <> 0',
    postgres: 'SELECT grain, (extract(epoch from bucket) * 1000)::float8 AS bucket, type, severity, resolved, threats::float8 AS threats FROM rollup_threats WHERE threats <> 0',
  })).map(key)
  const computed = (await raw(rt, {
    sqlite: `SELECT g.grain, created_at - created_at % g.grain AS bucket, type, severity, resolved <> 0 AS resolved, count(*) AS threats
               FROM threats, ${grains} GROUP BY 1, 2, 3, 4, 5`,
    postgres: `SELECT g.grain, floor(extract(epoch from created_at) * 1000 / g.grain)::float8 * g.grain AS bucket, type, severity, resolved,
                      count(*)::float8 AS threats
                 FROM threats, ${grains} GROUP BY 1, 2, 3, 4, 5`,
  })).map(key)
  const differences = [...stored.filter((cell) => !computed.includes(cell)).map((cell) => `rollup only: ${cell}`), ...computed.filter((cell) => !stored.includes(cell)).map((cell) => `threats only: ${cell}`)]
  return differences.slice(0, 10)
}

/** Every rollup row recomputed from request_logs with GROUP BY; returns the rows that differ (at most ten). */
export async function rollupsDisagreeingWithTheLog(rt: Runtime) {
  const postgres = dialectOf(rt) === 'postgres'
  const differences: unknown[] = []
  // Every value as a number or text: PostgreSQL's bigints and times are cast, SQLite's are numbers already.
  const ms = (column: string) => (postgres ? `(extract(epoch from ${column}) * 1000)::float8` : column)
  const num = (expression: string) => (postgres ? `(${expression})::float8` : expression)
  // Each column named c0, c1, …: PostgreSQL names a column after its function (sum, count), and
  // the client keeps one value per name.
  const select = (columns: string[], rest: string) => `SELECT ${columns.map((column, i) => `${column} AS c${i}`).join(', ')} ${rest}`
  const compare = async (label: string, rollup: string, computedSql: string) => {
    // Sums of floats in another order (and minus generated rows) differ in the last digits.
    const round = (v: unknown) => (typeof v !== 'number' ? v : Math.abs(v) < 1e-9 ? 0 : Number(v.toPrecision(9)))
    const key = (row: Record<string, unknown>) => JSON.stringify(Object.values(row).map(round))
    const stored = new Set((await raw(rt, rollup)).map(key))
    const computed = (await raw(rt, computedSql)).map(key)
    if (stored.size !== computed.length) differences.push(`${label}: ${stored.size} rollup rows, ${computed.length} computed`)
    for (const row of computed) if (!stored.has(row)) differences.push(`${label}: ${row}`)
  }
  const ok = postgres ? "count(*) FILTER (WHERE r.outcome = 'ok')" : "sum(r.outcome = 'ok')"
  const hits = postgres ? 'count(*) FILTER (WHERE r.cached)' : 'sum(r.cached)'
  for (const grain of [3_600_000, 86_400_000])
    for (const user of ['r.user_id', "''"]) {
      const from = `FROM request_logs r WHERE ${user === "''" ? 'true' : 'r.user_id IS NOT NULL'}`
      const bucket = postgres ? `floor(extract(epoch from r.created_at) * 1000 / ${grain}) * ${grain}` : `r.created_at - r.created_at % ${grain}`
      const where = `WHERE grain = ${grain} AND ${user === "''" ? "user_id = ''" : "user_id <> ''"}`
      await compare(
        `traffic ${grain} ${user}`,
        select(
          ['user_id', ms('bucket'), num('requests'), num('successes'), num('prompt_tokens'), num('completion_tokens'), 'cost', 'latency_ms_sum', num('completions'), num('cache_hits'), 'cost_saved'],
          `FROM rollup_traffic ${where}`,
        ),
        select(
          [user, num(bucket), num('count(*)'), num(ok), num('sum(r.prompt_tokens)'), num('sum(r.completion_tokens)'), 'sum(r.cost)', 'sum(r.latency_ms)', num('count(r.model)'), num(hits), 'sum(r.cost_saved)'],
          `${from} GROUP BY 1, 2`,
        ),
      )
      await compare(
        `models ${grain} ${user}`,
        select(['user_id', ms('bucket'), 'model', num('requests')], `FROM rollup_models ${where}`),
        select([user, num(bucket), 'r.model', num('count(*)')], `${from} AND r.model IS NOT NULL GROUP BY 1, 2, 3`),
      )
      await compare(
        `countries ${grain} ${user}`,
        select(['user_id', ms('bucket'), 'country', num('requests')], `FROM rollup_countries ${where}`),
        select([user, num(bucket), 'r.country', num('count(*)')], `${from} AND r.country IS NOT NULL GROUP BY 1, 2, 3`),
      )
      await compare(
        `errors ${grain} ${user}`,
        select(['user_id', ms('bucket'), 'label', num('requests')], `FROM rollup_errors ${where}`),
        select(
          [user, num(bucket), 'CASE WHEN r.status >= 400 THEN CAST(r.status AS TEXT) ELSE coalesce(r.error_type, r.outcome) END', num('count(*)')],
          `${from} AND r.outcome <> 'ok' GROUP BY 1, 2, 3`,
        ),
      )
    }
  const day = postgres ? "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')" : "strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')"
  const errors = postgres ? "count(*) FILTER (WHERE outcome <> 'ok')" : "sum(outcome <> 'ok')"
  await compare(
    'model_usage_daily',
    select(
      [postgres ? "to_char(day, 'YYYY-MM-DD')" : 'day', 'model', num('requests'), num('errors'), num('prompt_tokens'), num('completion_tokens'), 'cost', 'latency_ms_sum'],
      'FROM model_usage_daily',
    ),
    select(
      [day, 'model', num('count(*)'), num(errors), num('sum(prompt_tokens)'), num('sum(completion_tokens)'), 'sum(cost)', 'sum(latency_ms)'],
      'FROM request_logs WHERE model IS NOT NULL GROUP BY 1, 2',
    ),
  )
  return differences.slice(0, 10)
}

/** The plan the database chooses for a query, as text (on PostgreSQL with sequential scans discouraged, as on a large table). */
export async function queryPlan(rt: Runtime, query: string): Promise<string> {
  const handle = handleOf(rt.store)
  if (handle.dialect === 'sqlite')
    return handle.db.query<{ detail: string }, []>(`EXPLAIN QUERY PLAN ${query}`).all().map((row) => row.detail).join('; ')
  return handle.sql.begin(async (tx) => {
    await tx.unsafe('SET LOCAL enable_seqscan = off')
    const rows = (await tx.unsafe(`EXPLAIN ${query}`)) as { 'QUERY PLAN': string }[]
    return rows.map((row) => row['QUERY PLAN']).join('; ')
  })
}

/** Makes the database refuse every insert into `table` with `message` (a full disk, say); returns how to undo it. */
export async function refuseInserts(rt: Runtime, table: string, message: string): Promise<() => Promise<void>> {
  if (dialectOf(rt) === 'sqlite') {
    await raw(rt, `CREATE TRIGGER refuse BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, '${message}'); END`)
    return async () => void (await raw(rt, 'DROP TRIGGER refuse'))
  }
  await raw(rt, `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${message}'; END $$`)
  await raw(rt, `CREATE TRIGGER refuse BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse()`)
  return async () => void (await raw(rt, `DROP TRIGGER refuse ON ${table}; DROP FUNCTION refuse()`))
}
