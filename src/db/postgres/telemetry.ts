// The telemetry store on PostgreSQL: the request log, its rollups and its sessions' totals. A
// batch is one transaction: its rows in one statement (./bulk.ts), then its rollup cells from the
// JS fold (../request-rollup.ts) as upserts that add, sorted by key, so that batches of several
// replicas commute and never deadlock; then its sessions' totals, locked in id order first.
import type { SQL } from 'bun'
import { DAY } from '../../http/dates'
import { RequestRollup, sessionTotals, type Cell, type Countable, type SessionTotals, type Totals } from '../request-rollup'
import type { LogRow, TelemetryStore } from '../stores/telemetry'
import { bulkInsert, cellAt, rollupUpsert, type CellAt } from './bulk'

const insertRows = bulkInsert<LogRow>('request_logs', {
  request_id: ['text', (row) => row.requestId],
  created_at: ['timestamptz', (row) => new Date(row.createdAt)],
  method: ['text', (row) => row.method],
  path: ['text', (row) => row.path],
  status: ['integer', (row) => row.status],
  latency_ms: ['double precision', (row) => row.latencyMs],
  user_id: ['text', (row) => row.userId],
  api_key_id: ['text', (row) => row.apiKeyId],
  session_id: ['text', (row) => row.sessionId],
  model: ['text', (row) => row.model],
  upstream: ['text', (row) => row.upstream],
  completion_id: ['text', (row) => row.completionId],
  prompt_tokens: ['bigint', (row) => row.promptTokens],
  completion_tokens: ['bigint', (row) => row.completionTokens],
  total_tokens: ['bigint', (row) => row.promptTokens + row.completionTokens],
  ttft_ms: ['double precision', (row) => row.ttftMs],
  cost: ['double precision', (row) => row.cost],
  country: ['text', (row) => row.country],
  ip: ['text', (row) => row.ip],
  user_agent: ['text', (row) => row.userAgent],
  error_type: ['text', (row) => row.errorType],
  outcome: ['text', (row) => row.outcome],
  generated: ['boolean', (row) => !!row.generated],
  cached: ['boolean', (row) => !!row.cached],
  cost_saved: ['double precision', (row) => row.costSaved ?? 0],
  end_user: ['text', (row) => row.endUser ?? null],
  metadata: ['text', (row) => (row.metadata ? JSON.stringify(row.metadata) : null)],
  images: ['integer', (row) => row.images ?? null],
})

const traffic = rollupUpsert<Cell>('rollup_traffic', cellAt, {
  requests: ['bigint', (c) => c.totals.requests],
  successes: ['bigint', (c) => c.totals.successes],
  latency_ms_sum: ['double precision', (c) => c.totals.latencyMs],
  prompt_tokens: ['bigint', (c) => c.totals.promptTokens],
  completion_tokens: ['bigint', (c) => c.totals.completionTokens],
  cost: ['double precision', (c) => c.totals.cost],
  completions: ['bigint', (c) => c.totals.completions],
  cache_hits: ['bigint', (c) => c.totals.cacheHits],
  cost_saved: ['double precision', (c) => c.totals.costSaved],
})

/** A count of requests per value of one column (a model, a country, an error label) in a cell. */
type Counted = CellAt & { value: string; requests: number }
const upsertCount = (table: string, column: string) =>
  rollupUpsert<Counted>(table, { ...cellAt, [column]: ['text', (c: Counted) => c.value] }, { requests: ['bigint', (c) => c.requests] })
const models = upsertCount('rollup_models', 'model')
const countries = upsertCount('rollup_countries', 'country')
const errors = upsertCount('rollup_errors', 'label')

/** The seed's daily per-model table, for everyone together. */
type ModelDay = { day: string; model: string; totals: Totals }
const modelDay = rollupUpsert<ModelDay>('model_usage_daily', { day: ['date', (c) => c.day], model: ['text', (c) => c.model] }, {
  requests: ['bigint', (c) => c.totals.requests],
  errors: ['bigint', (c) => c.totals.requests - c.totals.successes],
  prompt_tokens: ['bigint', (c) => c.totals.promptTokens],
  completion_tokens: ['bigint', (c) => c.totals.completionTokens],
  cost: ['double precision', (c) => c.totals.cost],
  latency_ms_sum: ['double precision', (c) => c.totals.latencyMs],
})

const ROLLUP_TABLES = ['rollup_traffic', 'rollup_models', 'rollup_countries', 'rollup_errors', 'model_usage_daily']

const counts = (cells: Cell[], of: (cell: Cell) => Iterable<[string, number]>): Counted[] =>
  cells.flatMap((cell) => [...of(cell)].map(([value, requests]) => ({ ...cell, value, requests })))

/** Adds the rollup's cells to the rollup tables, always in this order of tables; call inside a transaction. */
async function saveRollup(tx: SQL, rollup: RequestRollup) {
  const cells = rollup.cells()
  await traffic(tx, cells)
  await models(tx, counts(cells, (cell) => [...cell.models].map(([model, m]) => [model, m.requests])))
  await countries(tx, counts(cells, (cell) => cell.countries))
  await errors(tx, counts(cells, (cell) => cell.errors))
  const everyoneDaily = cells.filter((cell) => cell.grain === DAY && cell.userId === '')
  const day = (bucket: number) => new Date(bucket).toISOString().slice(0, 10)
  await modelDay(tx, everyoneDaily.flatMap((cell) => [...cell.models].map(([model, totals]) => ({ day: day(cell.bucket), model, totals }))))
}

/** Locks the sessions in id order (as every batch does, so that two batches cannot deadlock), then adds to them. */
async function addToSessions(tx: SQL, totals: Map<string, SessionTotals>) {
  if (totals.size === 0) return
  const ids = [...totals.keys()]
  const all = [...totals.values()]
  await tx`SELECT 1 FROM sessions WHERE id = ANY(${ids}::text[]) ORDER BY id FOR NO KEY UPDATE`
  await tx`
    UPDATE sessions AS s SET request_count = s.request_count + v.requests, total_tokens = s.total_tokens + v.tokens,
           total_cost = s.total_cost + v.cost, last_seen_at = greatest(s.last_seen_at, v.last_seen)
      FROM unnest(${ids}::text[], ${all.map((s) => s.requests)}::bigint[], ${all.map((s) => s.tokens)}::bigint[],
                  ${all.map((s) => s.cost)}::float8[], ${all.map((s) => new Date(s.lastSeen))}::timestamptz[])
           AS v(id, requests, tokens, cost, last_seen)
     WHERE s.id = v.id`
}

/** The columns the fold reads, as ../request-rollup.ts names them (created_at still a Date). */
const countableColumns = `created_at AS "createdAt", user_id AS "userId", status, outcome, error_type AS "errorType",
  latency_ms AS "latencyMs", prompt_tokens::float8 AS "promptTokens", completion_tokens::float8 AS "completionTokens", cost, model, country,
  cached, cost_saved AS "costSaved"`

/** Generated rows deleted per statement: their countable columns come back to be folded, a bounded amount at a time. */
const DELETE_CHUNK = 50_000

export function postgresTelemetry(sql: SQL): TelemetryStore {
  return {
    async insertLogs(rows) {
      if (rows.length === 0) return
      const rollup = new RequestRollup()
      for (const row of rows) rollup.add(row)
      const kept = rows.some((row) => row.rollupOnly) ? rows.filter((row) => !row.rollupOnly) : rows
      const totals = sessionTotals(rows)
      await sql.begin(async (tx) => {
        await insertRows(tx, kept)
        await saveRollup(tx, rollup)
        await addToSessions(tx, totals)
      })
    },

    async deleteGeneratedLogs() {
      return sql.begin(async (tx) => {
        // The rows this transaction deletes are the ones it takes out of the rollups, whatever
        // another replica deletes at the same time.
        const rollup = new RequestRollup()
        let deleted = 0
        for (;;) {
          const rows = (await tx.unsafe(
            `DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs WHERE generated LIMIT ${DELETE_CHUNK})
             RETURNING ${countableColumns}`,
          )) as (Omit<Countable, 'createdAt'> & { createdAt: Date })[]
          if (rows.length === 0) break
          for (const row of rows) rollup.add({ ...row, createdAt: row.createdAt.getTime() }, -1)
          deleted += rows.length
        }
        await saveRollup(tx, rollup)
        for (const table of ROLLUP_TABLES) await tx.unsafe(`DELETE FROM ${table} WHERE requests <= 0`)
        return deleted
      })
    },

    async pruneLogs(before, limit) {
      const result = await sql`
        DELETE FROM request_logs
         WHERE id IN (SELECT id FROM request_logs WHERE created_at < ${new Date(before)} ORDER BY created_at LIMIT ${limit})`
      return result.count
    },
  }
}
