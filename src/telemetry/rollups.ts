// How rows are folded into the rollup tables (db/migrations/0003_rollups.sql): every row
// counts in an hourly and a daily bucket, once for its user and once for everyone (user_id '').
// A rollup statement aggregates the rows that a WHERE clause picks and adds them, times a
// sign, so the same SQL adds a new batch (+1) and takes generated data back out (-1).
import type { Database } from 'bun:sqlite'

export const HOUR = 3_600_000
export const DAY = 86_400_000
export const GRAINS = [HOUR, DAY]

export type Scope = { user: string; filter: string }

const scopes = (alias: string): Scope[] => [
  { user: `${alias}.user_id`, filter: `AND ${alias}.user_id IS NOT NULL` },
  { user: `''`, filter: '' },
]

/**
 * Runs each statement for every grain and scope. In the SQL, ?1 is the grain (bucket width in
 * ms), ?2 the sign, and `where` (whose own parameters are ?3, ?4, …) picks the rows.
 */
export function applyRollups(
  db: Database,
  alias: string,
  statements: ((scope: Scope, where: string) => string)[],
  sign: 1 | -1,
  where: string,
  params: (string | number)[] = [],
) {
  for (const statement of statements)
    for (const scope of scopes(alias))
      for (const grain of GRAINS) db.query(statement(scope, where)).run(grain, sign, ...params)
}
