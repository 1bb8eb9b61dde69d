// The telemetry store on SQLite: the request log, its rollups and its sessions' totals. A batch
// is one transaction; its rollup cells come from the JS fold (../request-rollup.ts), applied as
// upserts that add, so batches from several writers commute. Every statement is prepared once
// per store (db.query, so closing the database finalizes them): the writer calls insertLogs
// many times a second under load.
import type { Database } from 'bun:sqlite'
import { DAY } from '../../http/dates'
import { RequestRollup, sessionTotals, type Countable, type SessionTotals } from '../request-rollup'
import type { LogRow, TelemetryStore } from '../stores/telemetry'

const LOG_COLUMNS = `request_id, created_at, method, path, status, latency_ms, user_id, api_key_id, session_id, model,
  upstream, completion_id, prompt_tokens, completion_tokens, total_tokens, ttft_ms, cost, country, ip, user_agent,
  error_type, outcome, generated, cached, cost_saved, end_user, metadata, images`

const insertSql = (rows: number) =>
  `INSERT INTO request_logs (${LOG_COLUMNS}) VALUES ${Array(rows).fill(`(${Array(28).fill('?').join(', ')})`).join(', ')}`

/** Rows per INSERT statement: binding many rows per call costs less than a call per row. */
const ROWS_PER_INSERT = 32

type Value = string | number | null

const values = (row: LogRow): Value[] => [
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
  row.cached ? 1 : 0,
  row.costSaved ?? 0,
  row.endUser ?? null,
  row.metadata ? JSON.stringify(row.metadata) : null,
  row.images ?? null,
]

const upsertTraffic = `
  INSERT INTO rollup_traffic AS t (grain, user_id, bucket, requests, successes, latency_ms_sum, prompt_tokens, completion_tokens, cost,
                                   completions, cache_hits, cost_saved)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
  ON CONFLICT (grain, user_id, bucket) DO UPDATE SET requests = t.requests + excluded.requests,
    successes = t.successes + excluded.successes, latency_ms_sum = t.latency_ms_sum + excluded.latency_ms_sum,
    prompt_tokens = t.prompt_tokens + excluded.prompt_tokens, completion_tokens = t.completion_tokens + excluded.completion_tokens,
    cost = t.cost + excluded.cost, completions = t.completions + excluded.completions,
    cache_hits = t.cache_hits + excluded.cache_hits, cost_saved = t.cost_saved + excluded.cost_saved`

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

const ROLLUP_TABLES = ['rollup_traffic', 'rollup_models', 'rollup_countries', 'rollup_errors', 'model_usage_daily']

const addToSession = `
  UPDATE sessions SET request_count = request_count + ?2, total_tokens = total_tokens + ?3, total_cost = total_cost + ?4,
         last_seen_at = max(last_seen_at, ?5)
   WHERE id = ?1`

const countableColumns = `created_at AS createdAt, user_id AS userId, status, outcome, error_type AS errorType,
  latency_ms AS latencyMs, prompt_tokens AS promptTokens, completion_tokens AS completionTokens, cost, model, country,
  cached, cost_saved AS costSaved`

export function sqliteTelemetry(db: Database): TelemetryStore {
  const insertMany = db.query<unknown, Value[]>(insertSql(ROWS_PER_INSERT))
  const insertOne = db.query<unknown, Value[]>(insertSql(1))
  const traffic = db.query(upsertTraffic)
  const models = db.query(upsertCount('rollup_models', 'model'))
  const countries = db.query(upsertCount('rollup_countries', 'country'))
  const errors = db.query(upsertCount('rollup_errors', 'label'))
  const modelDay = db.query(upsertModelDay)
  const sessions = db.query(addToSession)
  const generatedRows = db.query<Countable, []>(`SELECT ${countableColumns} FROM request_logs WHERE generated = 1`)
  const deleteGenerated = db.query('DELETE FROM request_logs WHERE generated = 1')
  const deleteEmptyCells = ROLLUP_TABLES.map((table) => db.query(`DELETE FROM ${table} WHERE requests <= 0`))
  const pruneOldest = db.query<unknown, [number, number]>(
    'DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs WHERE created_at < ? ORDER BY created_at LIMIT ?)',
  )

  /** Adds the rollup's cells to the rollup tables; call inside a transaction. */
  function saveRollup(rollup: RequestRollup) {
    for (const { grain, userId, bucket, totals: t, ...cell } of rollup.cells()) {
      traffic.run(grain, userId, bucket, t.requests, t.successes, t.latencyMs, t.promptTokens, t.completionTokens, t.cost, t.completions, t.cacheHits, t.costSaved)
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

  const insertBatch = db.transaction((kept: LogRow[], rollup: RequestRollup, totals: Map<string, SessionTotals>) => {
    let i = 0
    for (; i + ROWS_PER_INSERT <= kept.length; i += ROWS_PER_INSERT)
      insertMany.run(...kept.slice(i, i + ROWS_PER_INSERT).flatMap(values))
    for (; i < kept.length; i++) insertOne.run(...values(kept[i]!))
    saveRollup(rollup)
    for (const [id, s] of totals) sessions.run(id, s.requests, s.tokens, s.cost, s.lastSeen)
  })

  const deleteGeneratedBatch = db.transaction(() => {
    const rollup = new RequestRollup()
    for (const row of generatedRows.iterate()) rollup.add(row, -1)
    saveRollup(rollup)
    for (const statement of deleteEmptyCells) statement.run()
    return deleteGenerated.run().changes
  })

  return {
    async insertLogs(rows) {
      if (rows.length === 0) return
      const rollup = new RequestRollup()
      for (const row of rows) rollup.add(row)
      const kept = rows.some((row) => row.rollupOnly) ? rows.filter((row) => !row.rollupOnly) : rows
      insertBatch(kept, rollup, sessionTotals(rows))
    },

    async deleteGeneratedLogs() {
      return deleteGeneratedBatch()
    },

    async pruneLogs(before, limit) {
      return pruneOldest.run(before, limit).changes
    },
  }
}
