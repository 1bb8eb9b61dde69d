// Many rows in one statement on PostgreSQL: one array parameter per column, unnested back into
// rows. A parameter per value would cap a statement at 65,535 values and make a new statement
// text (a new parse) for every batch size; this text is the same whatever the batch.
//
// Rollup cells are added the same way, as increments (ON CONFLICT … DO UPDATE SET n = t.n +
// excluded.n), which commute: batches of several replicas give the same totals in any order.
// Their rows are sorted by primary key first, so that concurrent batches lock the cells they
// share in the same order and never wait on each other in a circle (a deadlock).
import type { SQL } from 'bun'

export type PgType = 'text' | 'integer' | 'bigint' | 'double precision' | 'boolean' | 'timestamptz' | 'date'

/** Each column of a table: its type and how to read its value from a row of ours. */
export type Columns<Row> = Record<string, [type: PgType, value: (row: Row) => unknown]>

/** `INSERT INTO table (…) SELECT * FROM unnest(…)`: the rows' columns as arrays, in the same order. */
export function bulkInsert<Row>(table: string, columns: Columns<Row>, tail = '') {
  const names = Object.keys(columns)
  const arrays = names.map((name, i) => `$${i + 1}::${columns[name]![0]}[]`).join(', ')
  const text = `INSERT INTO ${table} (${names.join(', ')}) SELECT * FROM unnest(${arrays}) ${tail}`
  return (sql: SQL, rows: Row[]) =>
    rows.length === 0 ? Promise.resolve([]) : sql.unsafe(text, names.map((name) => rows.map(columns[name]![1])))
}

type Key = string | number | boolean

const compare = (a: Key[], b: Key[]) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1
  return 0
}

/**
 * Adds cells to a rollup table: `keys` are its primary key's columns, `sums` the columns
 * incremented. A key is read as a string, number or boolean, so that every writer sorts the same
 * way (a timestamptz key as ms, bound as a time). Cells that add nothing are left out.
 */
export function rollupUpsert<Cell>(table: string, keys: Record<string, [PgType, (cell: Cell) => Key]>, sums: Columns<Cell>) {
  const keyNames = Object.keys(keys)
  const bind = (type: PgType, value: (cell: Cell) => Key) =>
    [type, type === 'timestamptz' ? (cell: Cell) => new Date(value(cell) as number) : value] as [PgType, (cell: Cell) => unknown]
  const columns: Columns<Cell> = Object.fromEntries([
    ...keyNames.map((name) => [name, bind(...keys[name]!)]),
    ...Object.entries(sums),
  ])
  const increments = Object.keys(sums).map((name) => `${name} = t.${name} + excluded.${name}`)
  // unnest yields the arrays in their order, so the rows are inserted (and locked) in key order.
  const insert = bulkInsert(`${table} AS t`, columns, `ON CONFLICT (${keyNames.join(', ')}) DO UPDATE SET ${increments.join(', ')}`)
  const keyOf = (cell: Cell) => keyNames.map((name) => keys[name]![1](cell))
  const sumValues = Object.values(sums).map(([, value]) => value)
  return (sql: SQL, cells: Cell[]) => {
    const sorted = cells
      .filter((cell) => sumValues.some((value) => value(cell) !== 0))
      .map((cell) => ({ cell, key: keyOf(cell) }))
      .sort((a, b) => compare(a.key, b.key))
      .map(({ cell }) => cell)
    return insert(sql, sorted)
  }
}

/** Where a cell of rollup_traffic, _models, _countries, _errors or _feedback is: the key columns they start with. */
export type CellAt = { grain: number; userId: string; bucket: number }

export const cellAt = {
  grain: ['integer', (cell: CellAt) => cell.grain],
  user_id: ['text', (cell: CellAt) => cell.userId],
  bucket: ['timestamptz', (cell: CellAt) => cell.bucket],
} satisfies Record<string, [PgType, (cell: CellAt) => Key]>
