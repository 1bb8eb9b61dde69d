// The request log's SQL. A batch of rows goes in with one transaction, which also adds the
// batch's rollup cells and its sessions' totals.
import type { Database } from 'bun:sqlite'
import type { Outcome } from './facts'
import { DAY } from '../http/dates'
import { RequestRollup, type Countable } from './rollups'

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
  /** Counted in the rollups only, its raw row not kept (an anonymous request past RATE_LIMIT_ANONYMOUS). */
  rollupOnly?: boolean
}

const insertSql = (rows: number) => `INSERT INTO request_logs (request_id, created_at, method, path, status, latency_ms,
  user_id, api_key_id, session_id, model, upstream, completion_id, prompt_tokens, completion_tokens, total_tokens, ttft_ms,
  cost, country, ip, user_agent, error_type, outcome, generated)
  VALUES ${Array(rows).fill(`(${Array(23).fill('?').join(', ')})`).join(', ')}`

/** Rows per INSERT statement: binding many rows per call costs less than a call per row. */
const ROWS_PER_INSERT = 32

const values = (row: LogRow) => [
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
]

const upsertTraffic = `
  INSERT INTO rollup_traffic AS t (grain, user_id, bucket, requests, successes, latency_ms_sum, prompt_tokens, completion_tokens, cost)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
  ON CONFLICT (grain, user_id, bucket) DO UPDATE SET requests = t.requests + excluded.requests,
    successes = t.successes + excluded.successes, latency_ms_sum = t.latency_ms_sum + excluded.latency_ms_sum,
    prompt_tokens = t.prompt_tokens + excluded.prompt_tokens, completion_tokens = t.completion_tokens + excluded.completion_tokens,
    cost = t.cost + excluded.cost`

const upsertCount = (table: string, column: string) => `
  INSERT INTO ${table} AS t (grain, user_id, bucket, ${column}, requests) VALUES (?1, ?2, ?3, ?4, ?5)
  ON CONFLICT (grain, user_id, bucket, ${column}) DO UPDATE SET requests = t.requests + excluded.requests`

/** The seed's daily per-model table, for everyone together. */
const upsertModelDay = `
  INSERT INTO model_usage_daily AS t (day, model, requests, errors, prompt_tokens, completion_tokens, cost, latency_ms_sum)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
  ON CONFLICT (day, model) DO UPDATE SET requests = t.requests + excluded.requests, errors = t.errors + excluded.errors,
    prompt_tokens = t.prompt_tokens + excluded.prompt_tokens, completion_tokens = t.completion_tokens + excluded.completion_tokens,
    cost = t.cost + excluded.cost, latency_ms_sum = t.latency_ms_sum + excluded.latency_ms_sum`

const rollupTables = ['rollup_traffic', 'rollup_models', 'rollup_countries', 'rollup_errors', 'model_usage_daily']

function saveRollup(db: Database, rollup: RequestRollup) {
  const traffic = db.query(upsertTraffic)
  const models = db.query(upsertCount('rollup_models', 'model'))
  const countries = db.query(upsertCount('rollup_countries', 'country'))
  const errors = db.query(upsertCount('rollup_errors', 'label'))
  const modelDay = db.query(upsertModelDay)
  for (const { grain, userId, bucket, totals: t, ...cell } of rollup.cells()) {
    traffic.run(grain, userId, bucket, t.requests, t.successes, t.latencyMs, t.promptTokens, t.completionTokens, t.cost)
    for (const [model, m] of cell.models) {
      models.run(grain, userId, bucket, model, m.requests)
      if (grain === DAY && userId === '') {
        const day = new Date(bucket).toISOString().slice(0, 10)
        modelDay.run(day, model, m.requests, m.requests - m.successes, m.promptTokens, m.completionTokens, m.cost, m.latencyMs)
      }
    }
    for (const [country, requests] of cell.countries) countries.run(grain, userId, bucket, country, requests)
    for (const [label, requests] of cell.errors) errors.run(grain, userId, bucket, label, requests)
  }
}

const addToSession = `
  UPDATE sessions SET request_count = request_count + ?2, total_tokens = total_tokens + ?3, total_cost = total_cost + ?4,
         last_seen_at = max(last_seen_at, ?5)
   WHERE id = ?1`

function saveSessionTotals(db: Database, rows: LogRow[]) {
  const totals = new Map<string, { requests: number; tokens: number; cost: number; lastSeen: number }>()
  for (const row of rows) {
    if (!row.sessionId) continue
    let session = totals.get(row.sessionId)
    if (!session) totals.set(row.sessionId, (session = { requests: 0, tokens: 0, cost: 0, lastSeen: 0 }))
    session.requests++
    session.tokens += row.promptTokens + row.completionTokens
    session.cost += row.cost
    session.lastSeen = Math.max(session.lastSeen, row.createdAt)
  }
  const update = db.query(addToSession)
  for (const [id, s] of totals) update.run(id, s.requests, s.tokens, s.cost, s.lastSeen)
}

/** Writes a batch of rows, their rollups and their sessions' totals in one transaction. */
export async function insertLogs(db: Database, rows: LogRow[]): Promise<void> {
  if (rows.length === 0) return
  const rollup = new RequestRollup()
  for (const row of rows) rollup.add(row)
  const kept = rows.some((row) => row.rollupOnly) ? rows.filter((row) => !row.rollupOnly) : rows
  db.transaction(() => {
    const many = db.query(insertSql(ROWS_PER_INSERT))
    const one = db.query(insertSql(1))
    let i = 0
    for (; i + ROWS_PER_INSERT <= kept.length; i += ROWS_PER_INSERT)
      many.run(...kept.slice(i, i + ROWS_PER_INSERT).flatMap(values))
    for (; i < kept.length; i++) one.run(...values(kept[i]!))
    saveRollup(db, rollup)
    saveSessionTotals(db, rows)
  })()
}

const countableColumns = `created_at AS createdAt, user_id AS userId, status, outcome, error_type AS errorType,
  latency_ms AS latencyMs, prompt_tokens AS promptTokens, completion_tokens AS completionTokens, cost, model, country`

/** Deletes the rows made by populate-dashboard-data, taking them out of the rollups too. */
export async function deleteGeneratedLogs(db: Database): Promise<number> {
  return db.transaction(() => {
    const rollup = new RequestRollup()
    for (const row of db.query<Countable, []>(`SELECT ${countableColumns} FROM request_logs WHERE generated = 1`).iterate())
      rollup.add(row, -1)
    saveRollup(db, rollup)
    for (const table of rollupTables) db.query(`DELETE FROM ${table} WHERE requests <= 0`).run()
    return db.query('DELETE FROM request_logs WHERE generated = 1').run().changes
  })()
}
