// The request log's SQL. A batch of rows goes in with one transaction, which also folds the
// rows into the rollups and into their sessions' totals.
import type { Database } from 'bun:sqlite'
import type { Outcome } from './facts'
import { applyRollups, type Scope } from './rollups'

export type LogRow = {
  requestId: string
  createdAt: number
  method: string
  path: string
  status: number
  latencyMs: number
  userId: string | null
  apiKeyId: string | null
  sessionId: string | null
  model: string | null
  upstream: string | null
  completionId: string | null
  promptTokens: number
  completionTokens: number
  ttftMs: number | null
  cost: number
  country: string | null
  ip: string | null
  userAgent: string | null
  errorType: string | null
  outcome: Outcome
  generated?: boolean
}

const insertSql = `INSERT INTO request_logs (request_id, created_at, method, path, status, latency_ms, user_id, api_key_id,
  session_id, model, upstream, completion_id, prompt_tokens, completion_tokens, total_tokens, ttft_ms, cost, country, ip,
  user_agent, error_type, outcome, generated) VALUES (${Array(23).fill('?').join(', ')})`

const bucket = 'r.created_at - r.created_at % ?1'
const failed = `r.outcome <> 'ok'`
/** A failed request's label: its HTTP status, or why it failed after a 200 was sent. */
const errorLabel = `CASE WHEN r.status >= 400 THEN CAST(r.status AS TEXT) ELSE coalesce(r.error_type, r.outcome) END`

const rollups = [
  ({ user, filter }: Scope, where: string) => `
    INSERT INTO rollup_traffic AS t (grain, user_id, bucket, requests, successes, latency_ms_sum, prompt_tokens, completion_tokens, cost)
    SELECT ?1, ${user}, ${bucket}, ?2 * count(*), ?2 * sum(r.outcome = 'ok'), ?2 * sum(r.latency_ms),
           ?2 * sum(r.prompt_tokens), ?2 * sum(r.completion_tokens), ?2 * sum(r.cost)
      FROM request_logs r WHERE ${where} ${filter} GROUP BY 2, 3
    ON CONFLICT (grain, user_id, bucket) DO UPDATE SET requests = t.requests + excluded.requests,
      successes = t.successes + excluded.successes, latency_ms_sum = t.latency_ms_sum + excluded.latency_ms_sum,
      prompt_tokens = t.prompt_tokens + excluded.prompt_tokens,
      completion_tokens = t.completion_tokens + excluded.completion_tokens, cost = t.cost + excluded.cost`,
  ({ user, filter }: Scope, where: string) => `
    INSERT INTO rollup_models AS t (grain, user_id, bucket, model, requests)
    SELECT ?1, ${user}, ${bucket}, r.model, ?2 * count(*)
      FROM request_logs r WHERE ${where} AND r.model IS NOT NULL ${filter} GROUP BY 2, 3, 4
    ON CONFLICT (grain, user_id, bucket, model) DO UPDATE SET requests = t.requests + excluded.requests`,
  ({ user, filter }: Scope, where: string) => `
    INSERT INTO rollup_countries AS t (grain, user_id, bucket, country, requests)
    SELECT ?1, ${user}, ${bucket}, r.country, ?2 * count(*)
      FROM request_logs r WHERE ${where} AND r.country IS NOT NULL ${filter} GROUP BY 2, 3, 4
    ON CONFLICT (grain, user_id, bucket, country) DO UPDATE SET requests = t.requests + excluded.requests`,
  ({ user, filter }: Scope, where: string) => `
    INSERT INTO rollup_errors AS t (grain, user_id, bucket, label, requests)
    SELECT ?1, ${user}, ${bucket}, ${errorLabel}, ?2 * count(*)
      FROM request_logs r WHERE ${where} AND ${failed} ${filter} GROUP BY 2, 3, 4
    ON CONFLICT (grain, user_id, bucket, label) DO UPDATE SET requests = t.requests + excluded.requests`,
]

/** The seed's daily per-model table (everyone together; ?1 is unused). */
const modelUsageDaily = (where: string) => `
  INSERT INTO model_usage_daily AS t (day, model, requests, errors, prompt_tokens, completion_tokens, cost, latency_ms_sum)
  SELECT strftime('%Y-%m-%d', r.created_at / 1000, 'unixepoch'), r.model, ?2 * count(*), ?2 * sum(${failed}),
         ?2 * sum(r.prompt_tokens), ?2 * sum(r.completion_tokens), ?2 * sum(r.cost), ?2 * sum(r.latency_ms)
    FROM request_logs r WHERE ${where} AND r.model IS NOT NULL GROUP BY 1, 2
  ON CONFLICT (day, model) DO UPDATE SET requests = t.requests + excluded.requests, errors = t.errors + excluded.errors,
    prompt_tokens = t.prompt_tokens + excluded.prompt_tokens, completion_tokens = t.completion_tokens + excluded.completion_tokens,
    cost = t.cost + excluded.cost, latency_ms_sum = t.latency_ms_sum + excluded.latency_ms_sum`

function rollUp(db: Database, sign: 1 | -1, where: string, params: (string | number)[]) {
  applyRollups(db, 'r', rollups, sign, where, params)
  db.query(modelUsageDaily(where)).run(0, sign, ...params)
}

const sessionTotals = `
  UPDATE sessions SET request_count = request_count + a.requests, total_tokens = total_tokens + a.tokens,
         total_cost = total_cost + a.cost, last_seen_at = max(last_seen_at, a.last_seen)
    FROM (SELECT r.session_id AS id, count(*) AS requests, sum(r.total_tokens) AS tokens, sum(r.cost) AS cost,
                 max(r.created_at) AS last_seen
            FROM request_logs r WHERE r.id > ?1 AND r.id <= ?2 AND r.session_id IS NOT NULL GROUP BY r.session_id) AS a
   WHERE sessions.id = a.id`

/** Writes a batch of rows, their rollups and their sessions' totals in one transaction. */
export async function insertLogs(db: Database, rows: LogRow[]): Promise<void> {
  if (rows.length === 0) return
  db.transaction(() => {
    const before = db.query<{ id: number }, []>('SELECT coalesce(max(id), 0) AS id FROM request_logs').get()!.id
    const insert = db.query(insertSql)
    for (const row of rows)
      insert.run(
        row.requestId,
        row.createdAt,
        row.method,
        row.path,
        row.status,
        row.latencyMs,
        row.userId,
        row.apiKeyId,
        row.sessionId,
        row.model,
        row.upstream,
        row.completionId,
        row.promptTokens,
        row.completionTokens,
        row.promptTokens + row.completionTokens,
        row.ttftMs,
        row.cost,
        row.country,
        row.ip,
        row.userAgent,
        row.errorType,
        row.outcome,
        row.generated ? 1 : 0,
      )
    const last = before + rows.length
    rollUp(db, 1, 'r.id > ?3 AND r.id <= ?4', [before, last])
    db.query(sessionTotals).run(before, last)
  })()
}

/** Deletes the rows made by populate-dashboard-data, taking them out of the rollups first. */
export async function deleteGeneratedLogs(db: Database): Promise<number> {
  return db.transaction(() => {
    rollUp(db, -1, 'r.generated = 1', [])
    for (const table of ['rollup_traffic', 'rollup_models', 'rollup_countries', 'rollup_errors', 'model_usage_daily'])
      db.query(`DELETE FROM ${table} WHERE requests <= 0`).run()
    return db.query('DELETE FROM request_logs WHERE generated = 1').run().changes
  })()
}
