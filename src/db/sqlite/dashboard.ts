// The dashboard's store on SQLite: whole UTC days from the daily rollup when the buckets are
// days, the hours around them (and everything, for hourly buckets) from the hourly one.
// A statement's text depends only on the shape of the window (how many stretches, whose rows),
// so each is prepared once per store and reused.
import type { Database, Statement } from 'bun:sqlite'
import { DAY, HOUR } from '../../http/dates'
import { stretches } from '../rollup-stretches'
import type { DashboardStore, Dimension, SessionStats, Slice, ThreatStats, TrafficBucket } from '../stores/dashboard'

type Value = string | number

const dimensions: Record<Dimension, { table: string; column: string }> = {
  models: { table: 'rollup_models', column: 'model' },
  countries: { table: 'rollup_countries', column: 'country' },
  errors: { table: 'rollup_errors', column: 'label' },
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

export function sqliteDashboard(db: Database): DashboardStore {
  const prepared = new Map<string, Statement<any, Value[]>>()
  const statement = <Row>(sql: string): Statement<Row, Value[]> => {
    let known = prepared.get(sql)
    if (!known) prepared.set(sql, (known = db.query<Row, Value[]>(sql)))
    return known as Statement<Row, Value[]>
  }
  const sessions = db.query<SessionStats, [string, number, number]>(
    `SELECT count(*) AS sessions, avg(total_cost) AS cost, avg(request_count) AS requests FROM sessions
      WHERE last_seen_at >= ?2 AND created_at < ?3 AND request_count > 0 AND (?1 = '' OR user_id = ?1)`,
  )
  const loggedSince = db.query<{ n: number | null }, [number, number]>(
    `SELECT sum(requests) AS n FROM rollup_traffic WHERE grain = ?1 AND user_id = '' AND bucket >= ?2`,
  )

  return {
    async trafficSeries(s) {
      const { where, params } = rowsOf(s, 'scope')
      return statement<TrafficBucket>(
        `SELECT bucket - bucket % ? AS bucket, sum(requests) AS requests, sum(successes) AS successes,
                sum(latency_ms_sum) AS latencyMsSum, sum(prompt_tokens + completion_tokens) AS tokens, sum(cost) AS cost,
                sum(completions) AS completions, sum(cache_hits) AS cacheHits, sum(cost_saved) AS costSaved
           FROM rollup_traffic WHERE ${where} GROUP BY 1`,
      ).all(s.step, ...params)
    },

    async topValues(dimension, s, limit) {
      const { table, column } = dimensions[dimension]
      const { where, params } = rowsOf(s, 'scope')
      return statement<{ value: string; requests: number }>(
        `SELECT ${column} AS value, sum(requests) AS requests FROM ${table} WHERE ${where}
          GROUP BY 1 HAVING sum(requests) > 0 ORDER BY 2 DESC, 1 LIMIT ?`,
      ).all(...params, limit)
    },

    async activeUsers(s) {
      // A user's own view counts that user; everyone's counts the users with per-user rows.
      const { where, params } = rowsOf(s, s.scope ? 'scope' : 'users')
      const sql = s.scope
        ? `SELECT count(*) AS n FROM (SELECT 1 FROM rollup_traffic WHERE (${where}) AND requests > 0 LIMIT 1)`
        : `SELECT count(DISTINCT user_id) AS n FROM rollup_traffic WHERE (${where}) AND requests > 0`
      return statement<{ n: number }>(sql).get(...params)!.n
    },

    async ratingCounts(s) {
      const { where, params } = rowsOf(s, 'scope')
      return statement<{ rating: number; ratings: number }>(
        `SELECT rating, sum(ratings) AS ratings FROM rollup_feedback WHERE ${where} GROUP BY rating`,
      ).all(...params)
    },

    async sessionStats(s) {
      return sessions.get(s.scope, s.from, s.to)!
    },

    async threatStats(s, limit): Promise<ThreatStats> {
      const { where, params } = rowsOf(s, 'everyone')
      const totals = statement<Omit<ThreatStats, 'types'>>(
        `SELECT sum(threats) AS total, sum(CASE WHEN resolved = 0 THEN threats END) AS unresolved,
                sum(CASE WHEN severity = 'critical' THEN threats END) AS critical,
                sum(CASE WHEN severity = 'high' THEN threats END) AS high
           FROM rollup_threats WHERE ${where}`,
      ).get(...params)!
      const types = statement<{ type: string; count: number }>(
        `SELECT type, sum(threats) AS count FROM rollup_threats WHERE ${where}
          GROUP BY type HAVING sum(threats) > 0 ORDER BY 2 DESC, 1 LIMIT ?`,
      ).all(...params, limit)
      return { ...totals, types }
    },

    async logCounts(since) {
      const sum = (grain: number, from: number) => loggedSince.get(grain, from)!.n ?? 0
      return { total: sum(DAY, 0), recent: sum(HOUR, since) }
    },
  }
}
