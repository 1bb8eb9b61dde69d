// The dashboard's reads. Everything but sessions comes from the rollups, so a
// query reads O(buckets) rows: `scope` is a user id, or '' for everyone together.
import type { Database } from 'bun:sqlite'
import { DAY, HOUR } from '../telemetry/rollups'

export type Slice = { scope: string; grain: number; from: number; to: number; step: number }

type TrafficRow = {
  bucket: number
  requests: number
  successes: number
  latency_ms_sum: number
  tokens: number
  cost: number
}

const inSlice = 'grain = ?1 AND user_id = ?2 AND bucket >= ?3 AND bucket < ?4'
const params = (s: Slice) => [s.grain, s.scope, s.from, s.to] as const

export async function trafficSeries(db: Database, s: Slice): Promise<TrafficRow[]> {
  return db
    .query<TrafficRow, [number, string, number, number, number]>(
      `SELECT bucket - bucket % ?5 AS bucket, sum(requests) AS requests, sum(successes) AS successes,
              sum(latency_ms_sum) AS latency_ms_sum, sum(prompt_tokens + completion_tokens) AS tokens, sum(cost) AS cost
         FROM rollup_traffic WHERE ${inSlice} GROUP BY 1`,
    )
    .all(...params(s), s.step)
}

/** The most frequent values of one rollup dimension in the slice. */
export async function topValues(
  db: Database,
  dimension: 'rollup_models.model' | 'rollup_countries.country' | 'rollup_errors.label',
  s: Slice,
  limit: number,
): Promise<{ value: string; requests: number }[]> {
  const [table, column] = dimension.split('.')
  return db
    .query<{ value: string; requests: number }, [number, string, number, number, number]>(
      `SELECT ${column} AS value, sum(requests) AS requests FROM ${table} WHERE ${inSlice}
        GROUP BY 1 HAVING sum(requests) > 0 ORDER BY 2 DESC, 1 LIMIT ?5`,
    )
    .all(...params(s), limit)
}

export async function activeUsers(db: Database, s: Slice): Promise<number> {
  // A user's own view counts that user; everyone's counts the users with per-user rows.
  const sql = s.scope
    ? `SELECT count(*) AS n FROM (SELECT 1 FROM rollup_traffic WHERE ${inSlice} AND requests > 0 LIMIT 1)`
    : `SELECT count(DISTINCT user_id) AS n FROM rollup_traffic
        WHERE grain = ?1 AND user_id <> '' AND bucket >= ?3 AND bucket < ?4 AND requests > 0`
  return db.query<{ n: number }, [number, string, number, number]>(sql).get(...params(s))!.n
}

export async function ratingCounts(db: Database, s: Slice): Promise<{ rating: number; ratings: number }[]> {
  return db
    .query<{ rating: number; ratings: number }, [number, string, number, number]>(
      `SELECT rating, sum(ratings) AS ratings FROM rollup_feedback WHERE ${inSlice} GROUP BY rating`,
    )
    .all(...params(s))
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
  const inRange = 'grain = ?1 AND bucket >= ?2 AND bucket < ?3'
  const totals = db
    .query<{ total: number | null; unresolved: number | null; critical: number | null; high: number | null }, [number, number, number]>(
      `SELECT sum(threats) AS total, sum(CASE WHEN resolved = 0 THEN threats END) AS unresolved,
              sum(CASE WHEN severity = 'critical' THEN threats END) AS critical,
              sum(CASE WHEN severity = 'high' THEN threats END) AS high
         FROM rollup_threats WHERE ${inRange}`,
    )
    .get(s.grain, s.from, s.to)!
  const types = db
    .query<{ type: string; count: number }, [number, number, number, number]>(
      `SELECT type, sum(threats) AS count FROM rollup_threats WHERE ${inRange}
        GROUP BY type HAVING sum(threats) > 0 ORDER BY 2 DESC, 1 LIMIT ?4`,
    )
    .all(s.grain, s.from, s.to, limit)
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
