// The dashboard's store on PostgreSQL: whole UTC days from the daily rollup when the buckets are
// days, the hours around them (and everything, for hourly buckets) from the hourly one, as on
// SQLite (../sqlite/dashboard.ts). A statement's text depends only on the shape of the window
// (how many stretches, whose rows); Bun's client prepares each text once per connection.
// Sums of bigints are numerics, which the client returns as strings: they are cast to float8.
// Ties are ordered byte-wise (COLLATE "C"), as SQLite orders text.
import type { SQL } from 'bun'
import { DAY, HOUR } from '../../http/dates'
import { stretches } from '../rollup-stretches'
import type { DashboardStore, Dimension, SessionStats, Slice, ThreatStats, TrafficBucket } from '../stores/dashboard'

const dimensions: Record<Dimension, { table: string; column: string }> = {
  models: { table: 'rollup_models', column: 'model' },
  countries: { table: 'rollup_countries', column: 'country' },
  errors: { table: 'rollup_errors', column: 'label' },
}

/** Adds a parameter to a statement being built; returns its placeholder ($1, $2, …). */
type Bind = (value: unknown) => string

/**
 * The WHERE condition of the slice's rollup rows, its parameters bound with `bind`. `who`
 * is the condition on user_id (or none). Each stretch repeats the whole index prefix, so that
 * PostgreSQL reads each through the primary key (a BitmapOr of ranges, or one range scan).
 */
function rowsOf(s: Slice, who: 'scope' | 'users' | 'everyone', bind: Bind): string {
  const user = who === 'scope' ? `user_id = ${bind(s.scope)} AND ` : who === 'users' ? "user_id <> '' AND " : ''
  return stretches(s)
    .map(([grain, from, to]) => `(grain = ${bind(grain)} AND ${user}bucket >= ${bind(new Date(from))} AND bucket < ${bind(new Date(to))})`)
    .join(' OR ')
}

export function postgresDashboard(sql: SQL): DashboardStore {
  /** Runs the statement that `build` writes, binding its parameters as it goes. */
  const query = async <Row>(build: (bind: Bind) => string) => {
    const params: unknown[] = []
    const text = build((value) => `$${params.push(value)}`)
    // A plain array, as the interface promises (the client's result array also carries count and command).
    return [...((await sql.unsafe(text, params)) as Row[])]
  }
  const loggedSince = async (grain: number, from: number) =>
    ((await sql`
      SELECT sum(requests)::float8 AS n FROM rollup_traffic WHERE grain = ${grain} AND user_id = '' AND bucket >= ${new Date(from)}`)[0] as { n: number | null }).n ?? 0

  return {
    async trafficSeries(s) {
      const rows = await query<Omit<TrafficBucket, 'bucket'> & { bucket: Date }>(
        (bind) => `
        SELECT date_bin(${bind(s.step)}::float8 * interval '1 millisecond', bucket, timestamptz 'epoch') AS bucket,
               sum(requests)::float8 AS requests, sum(successes)::float8 AS successes, sum(latency_ms_sum) AS "latencyMsSum",
               sum(prompt_tokens + completion_tokens)::float8 AS tokens, sum(cost) AS cost,
               sum(completions)::float8 AS completions, sum(cache_hits)::float8 AS "cacheHits", sum(cost_saved) AS "costSaved"
          FROM rollup_traffic WHERE ${rowsOf(s, 'scope', bind)} GROUP BY 1`,
      )
      return rows.map((row) => ({ ...row, bucket: row.bucket.getTime() }))
    },

    async topValues(dimension, s, limit) {
      const { table, column } = dimensions[dimension]
      return query<{ value: string; requests: number }>(
        (bind) => `
        SELECT ${column} AS value, sum(requests)::float8 AS requests FROM ${table} WHERE ${rowsOf(s, 'scope', bind)}
         GROUP BY 1 HAVING sum(requests) > 0 ORDER BY 2 DESC, ${column} COLLATE "C" LIMIT ${bind(limit)}`,
      )
    },

    async activeUsers(s) {
      // A user's own view counts that user; everyone's counts the users with per-user rows.
      const [row] = await query<{ n: number }>((bind) => {
        const where = rowsOf(s, s.scope ? 'scope' : 'users', bind)
        return s.scope
          ? `SELECT count(*)::int AS n FROM (SELECT 1 FROM rollup_traffic WHERE (${where}) AND requests > 0 LIMIT 1) AS one`
          : `SELECT count(DISTINCT user_id)::int AS n FROM rollup_traffic WHERE (${where}) AND requests > 0`
      })
      return row!.n
    },

    async ratingCounts(s) {
      return query<{ rating: number; ratings: number }>(
        (bind) => `SELECT rating, sum(ratings)::float8 AS ratings FROM rollup_feedback WHERE ${rowsOf(s, 'scope', bind)} GROUP BY rating`,
      )
    },

    async sessionStats(s) {
      const [row] = await sql`
        SELECT count(*)::int AS sessions, avg(total_cost) AS cost, avg(request_count)::float8 AS requests FROM sessions
         WHERE last_seen_at >= ${new Date(s.from)} AND created_at < ${new Date(s.to)} AND request_count > 0
           AND (${s.scope}::text = '' OR user_id = ${s.scope})`
      return row as SessionStats
    },

    async threatStats(s, limit): Promise<ThreatStats> {
      const [totals] = await query<Omit<ThreatStats, 'types'>>(
        (bind) => `
        SELECT sum(threats)::float8 AS total, (sum(threats) FILTER (WHERE NOT resolved))::float8 AS unresolved,
               (sum(threats) FILTER (WHERE severity = 'critical'))::float8 AS critical,
               (sum(threats) FILTER (WHERE severity = 'high'))::float8 AS high
          FROM rollup_threats WHERE ${rowsOf(s, 'everyone', bind)}`,
      )
      const types = await query<{ type: string; count: number }>(
        (bind) => `
        SELECT type, sum(threats)::float8 AS count FROM rollup_threats WHERE ${rowsOf(s, 'everyone', bind)}
         GROUP BY type HAVING sum(threats) > 0 ORDER BY 2 DESC, type COLLATE "C" LIMIT ${bind(limit)}`,
      )
      return { ...totals!, types }
    },

    async logCounts(since) {
      return { total: await loggedSince(DAY, 0), recent: await loggedSince(HOUR, since) }
    },
  }
}
