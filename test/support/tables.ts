// The raw reads and writes that tests need and no store offers: whole-table counts and sums,
// the rollups recomputed from the raw log, threat rows changed the way the protection feature
// and admins change them. In one place, so that the test files build no SQL and reach into no
// database handle themselves.
import type { Runtime } from '../../src/runtime'

/** How many rows of `table` match `where` (SQL written by the test helper's callers as a constant). */
export const countRows = (rt: Runtime, table: string, where = '1 = 1') =>
  rt.db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get()!.n

/** The sum of one column over a whole table (null for no rows). */
export const sumColumn = (rt: Runtime, table: string, column: string) =>
  rt.db.query<{ n: number | null }, []>(`SELECT sum(${column}) AS n FROM ${table}`).get()!.n

/** The distinct values of one column of a table. */
export const distinctValues = (rt: Runtime, table: string, column: string) =>
  rt.db.query<{ value: string }, []>(`SELECT DISTINCT ${column} AS value FROM ${table}`).all().map((row) => row.value)

/** The id of one user made by populate-dashboard-data. */
export const someGeneratedUserId = (rt: Runtime) =>
  rt.db.query<{ id: string }, []>('SELECT id FROM users WHERE generated = 1 LIMIT 1').get()!.id

export type ThreatRow = { type: string; severity: string; userId: string | null; createdAt: number; resolved: boolean }

/** Writes threat rows directly, at the times given (the monitor would stamp them now). */
export function insertThreatRows(rt: Runtime, rows: ThreatRow[]) {
  const insert = rt.db.query('INSERT INTO threats (type, severity, user_id, created_at, resolved) VALUES (?, ?, ?, ?, ?)')
  for (const row of rows) insert.run(row.type, row.severity, row.userId, row.createdAt, row.resolved ? 1 : 0)
}

/** Changes every threat of one severity: resolves it, gives it another type, or deletes it. */
export const threatsOfSeverity = (rt: Runtime, severity: string) => ({
  resolve: (now: number) => rt.db.query('UPDATE threats SET resolved = 1, resolved_at = ? WHERE severity = ?').run(now, severity),
  retype: (type: string) => rt.db.query('UPDATE threats SET type = ? WHERE severity = ?').run(type, severity),
  delete: () => rt.db.query('DELETE FROM threats WHERE severity = ?').run(severity),
})

/** Every rollup row recomputed from request_logs with GROUP BY; returns the rows that differ (at most ten). */
export function rollupsDisagreeingWithTheLog(rt: Runtime) {
  const differences: unknown[] = []
  const compare = (label: string, rollup: string, raw: string) => {
    // Sums of floats in another order (and minus generated rows) differ in the last digits.
    const round = (v: unknown) => (typeof v !== 'number' ? v : Math.abs(v) < 1e-9 ? 0 : Number(v.toPrecision(9)))
    const key = (row: Record<string, unknown>) => JSON.stringify(Object.values(row).map(round))
    const stored = new Set(rt.db.query<Record<string, unknown>, []>(rollup).all().map(key))
    const computed = rt.db.query<Record<string, unknown>, []>(raw).all().map(key)
    if (stored.size !== computed.length) differences.push(`${label}: ${stored.size} rollup rows, ${computed.length} computed`)
    for (const row of computed) if (!stored.has(row)) differences.push(`${label}: ${row}`)
  }
  for (const grain of [3_600_000, 86_400_000])
    for (const user of ['r.user_id', "''"]) {
      const from = `FROM request_logs r WHERE ${user === "''" ? '1 = 1' : 'r.user_id IS NOT NULL'}`
      const bucket = `r.created_at - r.created_at % ${grain}`
      const where = `WHERE grain = ${grain} AND ${user === "''" ? "user_id = ''" : "user_id <> ''"}`
      compare(
        `traffic ${grain} ${user}`,
        `SELECT user_id, bucket, requests, successes, prompt_tokens, completion_tokens, cost, latency_ms_sum FROM rollup_traffic ${where} ORDER BY 1, 2`,
        `SELECT ${user}, ${bucket}, count(*), sum(r.outcome = 'ok'), sum(r.prompt_tokens), sum(r.completion_tokens), sum(r.cost), sum(r.latency_ms) ${from} GROUP BY 1, 2`,
      )
      compare(
        `models ${grain} ${user}`,
        `SELECT user_id, bucket, model, requests FROM rollup_models ${where}`,
        `SELECT ${user}, ${bucket}, r.model, count(*) ${from} AND r.model IS NOT NULL GROUP BY 1, 2, 3`,
      )
      compare(
        `countries ${grain} ${user}`,
        `SELECT user_id, bucket, country, requests FROM rollup_countries ${where}`,
        `SELECT ${user}, ${bucket}, r.country, count(*) ${from} AND r.country IS NOT NULL GROUP BY 1, 2, 3`,
      )
      compare(
        `errors ${grain} ${user}`,
        `SELECT user_id, bucket, label, requests FROM rollup_errors ${where}`,
        `SELECT ${user}, ${bucket}, CASE WHEN r.status >= 400 THEN CAST(r.status AS TEXT) ELSE coalesce(r.error_type, r.outcome) END,
                count(*) ${from} AND r.outcome <> 'ok' GROUP BY 1, 2, 3`,
      )
    }
  compare(
    'model_usage_daily',
    'SELECT day, model, requests, errors, prompt_tokens, completion_tokens, cost, latency_ms_sum FROM model_usage_daily',
    `SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch'), model, count(*), sum(outcome <> 'ok'), sum(prompt_tokens),
            sum(completion_tokens), sum(cost), sum(latency_ms) FROM request_logs WHERE model IS NOT NULL GROUP BY 1, 2`,
  )
  return differences.slice(0, 10)
}
