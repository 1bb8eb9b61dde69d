// Folds request rows into the cells of the rollup tables (db/migrations/<dialect>/0003_rollups.sql), in
// memory, so that a batch costs one upsert per cell rather than per row. Every row counts in
// an hourly and a daily bucket, once for its user and once for everyone (user_id ''). Adding
// with sign -1 takes rows back out (populate-dashboard-data --clear). Kept in JS, beside the
// store implementations (src/db/<dialect>/), so every dialect applies the same increments;
// ratings' fold is in ./rollups.ts. Also what a batch adds to each session's totals.
import { floorTo, HOUR } from '../http/dates'
import { GRAINS } from './rollups'
import type { LogRow } from './stores/telemetry'

export type Totals = {
  requests: number
  successes: number
  latencyMs: number
  promptTokens: number
  completionTokens: number
  cost: number
  /** Requests that named a model (chat completions): what the cache's hit rate is a share of. */
  completions: number
  /** Answered from the response cache, and what those answers would have cost. */
  cacheHits: number
  costSaved: number
}

export type Cell = {
  grain: number
  userId: string
  bucket: number
  totals: Totals
  models: Map<string, Totals>
  countries: Map<string, number>
  errors: Map<string, number>
}

export type Countable = Pick<
  LogRow,
  | 'createdAt'
  | 'userId'
  | 'status'
  | 'outcome'
  | 'errorType'
  | 'latencyMs'
  | 'promptTokens'
  | 'completionTokens'
  | 'cost'
  | 'model'
  | 'country'
  | 'cached'
  | 'costSaved'
>

const zero = (): Totals => ({
  requests: 0,
  successes: 0,
  latencyMs: 0,
  promptTokens: 0,
  completionTokens: 0,
  cost: 0,
  completions: 0,
  cacheHits: 0,
  costSaved: 0,
})

function addTo(totals: Totals, row: Countable, sign: number) {
  totals.requests += sign
  if (row.outcome === 'ok') totals.successes += sign
  totals.latencyMs += sign * row.latencyMs
  totals.promptTokens += sign * row.promptTokens
  totals.completionTokens += sign * row.completionTokens
  totals.cost += sign * row.cost
  if (row.model) totals.completions += sign
  // `cached` as read back from SQLite is 0 or 1.
  if (row.cached) totals.cacheHits += sign
  totals.costSaved += sign * (row.costSaved ?? 0)
}

const bump = (map: Map<string, number>, key: string, by: number) => map.set(key, (map.get(key) ?? 0) + by)

/** A failed request's label: its HTTP status, or why it failed after its 200 was sent. */
export const errorLabel = (row: Pick<LogRow, 'status' | 'errorType' | 'outcome'>) =>
  row.status >= 400 ? String(row.status) : (row.errorType ?? row.outcome)

export class RequestRollup {
  /** Rows are first summed per (user, hour); `cells()` spreads those sums over grains and scopes. */
  private readonly hours = new Map<string, Cell>()

  add(row: Countable, sign: 1 | -1 = 1) {
    const userId = row.userId ?? ''
    const bucket = floorTo(row.createdAt, HOUR)
    const key = `${userId}\0${bucket}`
    let cell = this.hours.get(key)
    if (!cell) this.hours.set(key, (cell = emptyCell(HOUR, userId, bucket)))
    addTo(cell.totals, row, sign)
    if (row.model) {
      let model = cell.models.get(row.model)
      if (!model) cell.models.set(row.model, (model = zero()))
      addTo(model, row, sign)
    }
    if (row.country) bump(cell.countries, row.country, sign)
    if (row.outcome !== 'ok') bump(cell.errors, errorLabel(row), sign)
  }

  /** Every (grain, user, bucket) cell the rows fall in, a user's rows counting for '' too. */
  cells(): Cell[] {
    const cells = new Map<string, Cell>()
    for (const hour of this.hours.values())
      for (const grain of GRAINS)
        for (const userId of hour.userId ? [hour.userId, ''] : ['']) {
          const bucket = floorTo(hour.bucket, grain)
          const key = `${grain}\0${userId}\0${bucket}`
          let cell = cells.get(key)
          if (!cell) cells.set(key, (cell = emptyCell(grain, userId, bucket)))
          merge(cell, hour)
        }
    return [...cells.values()]
  }
}

const emptyCell = (grain: number, userId: string, bucket: number): Cell => ({
  grain,
  userId,
  bucket,
  totals: zero(),
  models: new Map(),
  countries: new Map(),
  errors: new Map(),
})

function sum(into: Totals, from: Totals) {
  into.requests += from.requests
  into.successes += from.successes
  into.latencyMs += from.latencyMs
  into.promptTokens += from.promptTokens
  into.completionTokens += from.completionTokens
  into.cost += from.cost
  into.completions += from.completions
  into.cacheHits += from.cacheHits
  into.costSaved += from.costSaved
}

function merge(into: Cell, from: Cell) {
  sum(into.totals, from.totals)
  for (const [model, totals] of from.models) {
    let target = into.models.get(model)
    if (!target) into.models.set(model, (target = zero()))
    sum(target, totals)
  }
  for (const [country, n] of from.countries) bump(into.countries, country, n)
  for (const [label, n] of from.errors) bump(into.errors, label, n)
}

export type SessionTotals = { requests: number; tokens: number; cost: number; lastSeen: number }

/** What the rows add to each session they name. */
export function sessionTotals(rows: LogRow[]): Map<string, SessionTotals> {
  const totals = new Map<string, SessionTotals>()
  for (const row of rows) {
    if (!row.sessionId) continue
    let session = totals.get(row.sessionId)
    if (!session) totals.set(row.sessionId, (session = { requests: 0, tokens: 0, cost: 0, lastSeen: 0 }))
    session.requests++
    session.tokens += row.promptTokens + row.completionTokens
    session.cost += row.cost
    session.lastSeen = Math.max(session.lastSeen, row.createdAt)
  }
  return totals
}
