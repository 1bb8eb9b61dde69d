// Folds request rows into the cells of the rollup tables (db/migrations/0003_rollups.sql), in
// memory, so that a batch costs one upsert per cell rather than per row. Every row counts in
// an hourly and a daily bucket, once for its user and once for everyone (user_id ''). Adding
// with sign -1 takes rows back out (populate-dashboard-data --clear).
import type { LogRow } from './store'

export const HOUR = 3_600_000
export const DAY = 86_400_000
export const GRAINS = [HOUR, DAY]

export type Totals = {
  requests: number
  successes: number
  latencyMs: number
  promptTokens: number
  completionTokens: number
  cost: number
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
>

const zero = (): Totals => ({ requests: 0, successes: 0, latencyMs: 0, promptTokens: 0, completionTokens: 0, cost: 0 })

function addTo(totals: Totals, row: Countable, sign: number) {
  totals.requests += sign
  if (row.outcome === 'ok') totals.successes += sign
  totals.latencyMs += sign * row.latencyMs
  totals.promptTokens += sign * row.promptTokens
  totals.completionTokens += sign * row.completionTokens
  totals.cost += sign * row.cost
}

const bump = (map: Map<string, number>, key: string, sign: number) => map.set(key, (map.get(key) ?? 0) + sign)

/** A failed request's label: its HTTP status, or why it failed after its 200 was sent. */
export const errorLabel = (row: Pick<LogRow, 'status' | 'errorType' | 'outcome'>) =>
  row.status >= 400 ? String(row.status) : (row.errorType ?? row.outcome)

export class RequestRollup {
  readonly cells = new Map<string, Cell>()

  add(row: Countable, sign: 1 | -1 = 1) {
    for (const grain of GRAINS) {
      const bucket = row.createdAt - (row.createdAt % grain)
      this.addToCell(grain, '', bucket, row, sign)
      if (row.userId) this.addToCell(grain, row.userId, bucket, row, sign)
    }
  }

  private addToCell(grain: number, userId: string, bucket: number, row: Countable, sign: number) {
    const key = `${grain}\0${userId}\0${bucket}`
    let cell = this.cells.get(key)
    if (!cell)
      this.cells.set(
        key,
        (cell = { grain, userId, bucket, totals: zero(), models: new Map(), countries: new Map(), errors: new Map() }),
      )
    addTo(cell.totals, row, sign)
    if (row.model) {
      let model = cell.models.get(row.model)
      if (!model) cell.models.set(row.model, (model = zero()))
      addTo(model, row, sign)
    }
    if (row.country) bump(cell.countries, row.country, sign)
    if (row.outcome !== 'ok') bump(cell.errors, errorLabel(row), sign)
  }
}

/** Ratings per (grain, user, bucket, rating), keyed by the time the rating was given. */
export class FeedbackRollup {
  readonly cells = new Map<string, { grain: number; userId: string; bucket: number; rating: number; ratings: number }>()

  add(row: { userId: string; rating: number; createdAt: number }, sign: 1 | -1 = 1) {
    for (const grain of GRAINS) {
      const bucket = row.createdAt - (row.createdAt % grain)
      for (const userId of ['', row.userId]) {
        const key = `${grain}\0${userId}\0${bucket}\0${row.rating}`
        const cell = this.cells.get(key)
        if (cell) cell.ratings += sign
        else this.cells.set(key, { grain, userId, bucket, rating: row.rating, ratings: sign })
      }
    }
  }
}
