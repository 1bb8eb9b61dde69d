// The dashboard's reads. Everything but sessions comes from the rollups, so a query reads
// O(buckets) rows: whole UTC days from the daily rollup when the buckets are days, the hours
// around them (and everything, for hourly buckets) from the hourly one. `scope` is a user id,
// or '' for everyone together.
import type { Database } from 'bun:sqlite'
import { ceilTo, DAY, floorTo, HOUR } from '../http/dates'

export type Slice = { scope: string; from: number; to: number; step: number }

type TrafficRow = {
  bucket: number
  requests: number
  successes: number
  latency_ms_sum: number
  tokens: number
  cost: number
}

type Value = string | number

type Stretch = [grain: number, from: number, to: number]

/**
 * The stretches of one rollup grain that cover [from, to): when buckets are days, the whole UTC
 * days from the daily rollup and the hours around them from the hourly one; else all hours.
 */
function stretches({ from, to, step }: Slice): Stretch[] {
  const firstDay = ceilTo(from, DAY)
  const lastDay = floorTo(to, DAY)
  if (step < DAY || firstDay >= lastDay) return [[HOUR, from, to]]
  const all: Stretch[] = [
    [HOUR, from, firstDay],
    [DAY, firstDay, lastDay],
    [HOUR, lastDay, to],
  ]
  return all.filter(([, start, end]) => start < end)
}

/**
 * The WHERE condition of the slice's rollup rows, and its parameters. `who` is the condition on
 * user_id (or none). Each stretch repeats the whole index prefix: SQLite then reads each through
 * the index, and a window of one stretch is a plain range scan.
 */
function rowsOf(s: Slice, who: 'scope' | 'users' | 'everyone'): { where: string; params: Value[] } {
  const user = who === 'scope' ? 'user_id = ? AND ' : who === 'users' ? "user_id <> '' AND " : ''
  const parts = stretches(s)
  return {
    where: parts.map(() => `(grain = ? AND ${user}bucket >= ? AND bucket < ?)`).join(' OR '),
    params: parts.flatMap(([grain, from, to]) => (who === 'scope' ? [grain, s.scope, from, to] : [grain, from, to])),
  }
}

export async function trafficSeries(db: Database, s: Slice): Promise<TrafficRow[]> {
  const { where, params } = rowsOf(s, 'scope')
  return db
    .query<TrafficRow, Value[]>(
      `SELECT bucket - bucket % ? AS bucket, sum(requests) AS requests, sum(successes) AS successes,
              sum(latency_ms_sum) AS latency_ms_sum, sum(prompt_tokens + completion_tokens) AS tokens, sum(cost) AS cost
         FROM rollup_traffic WHERE ${where} GROUP BY 1`,
    )
    .all(s.step, ...params)
}

/** The most frequent values of one rollup dimension in the slice. */
export async function topValues(
  db: Database,
  dimension: 'rollup_models.model' | 'rollup_countries.country' | 'rollup_errors.label',
  s: Slice,
  limit: number,
): Promise<{ value: string; requests: number }[]> {
  const [table, column] = dimension.split('.')
  const { where, params } = rowsOf(s, 'scope')
  return db
    .query<{ value: string; requests: number }, Value[]>(
      `SELECT ${column} AS value, sum(requests) AS requests FROM ${table} WHERE ${where}
        GROUP BY 1 HAVING sum(requests) > 0 ORDER BY 2 DESC, 1 LIMIT ?`,
    )
    .all(...params, limit)
}

export async function activeUsers(db: Database, s: Slice): Promise<number> {
  // A user's own view counts that user; everyone's counts the users with per-user rows.
  const { where, params } = rowsOf(s, s.scope ? 'scope' : 'users')
  const sql = s.scope
    ? `SELECT count(*) AS n FROM (SELECT 1 FROM rollup_traffic WHERE (${where}) AND requests > 0 LIMIT 1)`
    : `SELECT count(DISTINCT user_id) AS n FROM rollup_traffic WHERE (${where}) AND requests > 0`
  return db.query<{ n: number }, Value[]>(sql).get(...params)!.n
}

export async function ratingCounts(db: Database, s: Slice): Promise<{ rating: number; ratings: number }[]> {
  const { where, params } = rowsOf(s, 'scope')
  return db
    .query<{ rating: number; ratings: number }, Value[]>(
      `SELECT rating, sum(ratings) AS ratings FROM rollup_feedback WHERE ${where} GROUP BY rating`,
    )
    .all(...params)
}

/** Sessions (sign-ins) that made requests in [from, to), with their lifetime totals. */
export async function sessionStats(db: Database, s: Slice) {
  return db
    .query<{ sessions: number; cost: number | null; requests: number | null }, [string, number, number]>(
      `SELECT count(*) AS sessions, avg(total_cost) AS cost, avg(request_count) AS requests FROM sessions
        WHERE last_seen_at >= ?2 AND created_at < ?3 AND request_count > 0 AND (?1 = '' OR user_id = ?1)`,
    )
    .get(s.scope, s.from, s.to)!
}

/** Threats logged in the slice (everyone's), from the rollup that triggers keep on `threats`. */
export async function threatStats(db: Database, s: Slice, limit: number) {
  const { where, params } = rowsOf(s, 'everyone')
  const totals = db
    .query<{ total: number | null; unresolved: number | null; critical: number | null; high: number | null }, Value[]>(
      `SELECT sum(threats) AS total, sum(CASE WHEN resolved = 0 THEN threats END) AS unresolved,
              sum(CASE WHEN severity = 'critical' THEN threats END) AS critical,
              sum(CASE WHEN severity = 'high' THEN threats END) AS high
         FROM rollup_threats WHERE ${where}`,
    )
    .get(...params)!
  const types = db
    .query<{ type: string; count: number }, Value[]>(
      `SELECT type, sum(threats) AS count FROM rollup_threats WHERE ${where}
        GROUP BY type HAVING sum(threats) > 0 ORDER BY 2 DESC, 1 LIMIT ?`,
    )
    .all(...params, limit)
  return { ...totals, types }
}

/** How many requests are logged in all, and since a time (from the rollups, not a count of rows). */
export async function logCounts(db: Database, since: number): Promise<{ total: number; recent: number }> {
  const sum = (grain: number, from: number) =>
    db
      .query<{ n: number | null }, [number, number]>(
        `SELECT sum(requests) AS n FROM rollup_traffic WHERE grain = ?1 AND user_id = '' AND bucket >= ?2`,
      )
      .get(grain, from)!.n ?? 0
  return { total: sum(DAY, 0), recent: sum(HOUR, since) }
}
