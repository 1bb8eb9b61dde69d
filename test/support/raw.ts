// Runs SQL a test helper wrote for the database under a runtime's store, SQLite or PostgreSQL:
// `?` placeholders on both; PostgreSQL's text may differ (pass both). Only test/support/ uses it.
import { handleOf } from '../../src/db/open'
import type { Runtime } from '../../src/runtime'

export type Dialects = string | { sqlite: string; postgres: string }

export const dialectOf = (rt: Runtime) => handleOf(rt.store).dialect

/** A time as the dialect stores it: ms on SQLite, a Date (timestamptz) on PostgreSQL. */
export const timeValue = (rt: Runtime, ms: number | null) => (ms === null || dialectOf(rt) === 'sqlite' ? ms : new Date(ms))

export async function raw<T = Record<string, unknown>>(rt: Runtime, text: Dialects, ...params: unknown[]): Promise<T[]> {
  const handle = handleOf(rt.store)
  if (handle.dialect === 'sqlite') {
    const sql = typeof text === 'string' ? text : text.sqlite
    return handle.db.query(sql).all(...(params as never[])) as T[]
  }
  let n = 0
  const sql = (typeof text === 'string' ? text : text.postgres).replaceAll('?', () => `$${++n}`)
  const rows = (await handle.sql.unsafe(sql, params as never[])) as Record<string, unknown>[]
  return rows.map(plain) as T[]
}

/**
 * PostgreSQL's timestamps arrive as Dates: ms here, as SQLite stores them. Its bigints arrive as
 * strings, so the PostgreSQL text casts what it counts (`count(*)::int`, `sum(x)::float8`).
 */
function plain(row: Record<string, unknown>) {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(row)) out[key] = value instanceof Date ? value.getTime() : value
  return out
}
