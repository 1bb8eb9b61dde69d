// Copies every table of one database into another, empty one, SQLite or PostgreSQL either way
// (`copy-data`): ids, times, rollups, settings and schema_migrations' record, row for row.
// All or nothing: the source is read from one snapshot and the target written in one
// transaction, committed only once every table's count matches the source's. The target must
// have the same migrations applied (opening it applies them) and no rows but that record.
import type { Handle } from '../open'
import { postgresSide } from './postgres'
import type { Side, Table } from './side'
import { sqliteSide } from './sqlite'

/** Rows stored so far: in the table being copied (all of them once `tableDone`), and in all. */
export type CopyProgress = { table: string; tableRows: number; tableTotal: number; rows: number; total: number; tableDone: boolean }

export type TableCount = { table: string; source: number; target: number }

/** The record of applied migrations, which opening the target fills: replaced by the source's. */
const MIGRATIONS_TABLE = 'schema_migrations'

const sideOf = (handle: Handle): Side => (handle.dialect === 'sqlite' ? sqliteSide(handle.db) : postgresSide(handle.sql))

export async function copyData(from: Handle, to: Handle, progress: (state: CopyProgress) => void = () => {}): Promise<TableCount[]> {
  const source = sideOf(from)
  const target = sideOf(to)
  await sameMigrations(source, target)
  const tables = inReferenceOrder(await matchingTables(source, target))
  return source.snapshot(async (reader) => {
    const totals = new Map<string, number>()
    for (const table of tables) totals.set(table.name, await reader.count(table))
    const total = [...totals.values()].reduce((sum, n) => sum + n, 0)
    return target.transaction(async (writer) => {
      const filled = []
      for (const table of tables) if (table.name !== MIGRATIONS_TABLE && (await writer.count(table)) > 0) filled.push(table.name)
      if (filled.length)
        throw new Error(`the target database is not empty (rows in ${filled.join(', ')}): copy-data only fills an empty database`)
      let rows = 0
      for (const table of tables) {
        if (table.name === MIGRATIONS_TABLE) await writer.clear(table)
        const tableTotal = totals.get(table.name)!
        let tableRows = 0
        try {
          await writer.insert(table, reader.chunks(table), (stored) => {
            tableRows += stored
            rows += stored
            progress({ table: table.name, tableRows, tableTotal, rows, total, tableDone: false })
          })
        } catch (error) {
          throw new Error(`copying ${table.name} failed, so nothing was written: ${(error as Error).message}`, { cause: error })
        }
        progress({ table: table.name, tableRows, tableTotal, rows, total, tableDone: true })
      }
      await writer.finish(tables, await reader.counters())
      const counts = []
      for (const table of tables) counts.push({ table: table.name, source: totals.get(table.name)!, target: await writer.count(table) })
      const differ = counts.filter((count) => count.source !== count.target)
      if (differ.length)
        throw new Error(
          `the copy came out different, so nothing was written: ${differ.map((count) => `${count.table} ${count.source} in the source, ${count.target} copied`).join('; ')}`,
        )
      return counts
    })
  })
}

async function sameMigrations(source: Side, target: Side) {
  const [ours, theirs] = await Promise.all([source.migrations(), target.migrations()])
  const missing = ours.filter((name) => !theirs.includes(name))
  const extra = theirs.filter((name) => !ours.includes(name))
  if (missing.length || extra.length)
    throw new Error(
      'the two databases have different migrations applied' +
        (missing.length ? `; only the source has ${missing.join(', ')}` : '') +
        (extra.length ? `; only the target has ${extra.join(', ')}` : '') +
        ': run copy-data with the version of the server that made the source, after `migrate`',
    )
}

/** The target's tables (its column order), after checking that the source has the same ones, column for column. */
async function matchingTables(source: Side, target: Side): Promise<Table[]> {
  const [ours, theirs] = await Promise.all([source.tables(), target.tables()])
  const differences: string[] = []
  for (const table of theirs) {
    const same = ours.find((candidate) => candidate.name === table.name)
    if (!same) differences.push(`${table.name} is only in the target`)
    else if ([...same.columns].sort().join() !== [...table.columns].sort().join())
      differences.push(`${table.name} has columns (${same.columns.join(', ')}) in the source, (${table.columns.join(', ')}) in the target`)
  }
  for (const table of ours) if (!theirs.some((candidate) => candidate.name === table.name)) differences.push(`${table.name} is only in the source`)
  if (differences.length) throw new Error(`the two databases' tables differ: ${differences.join('; ')}`)
  // The source's key orders the reading; the target's column order is the one both sides use.
  return theirs.map((table) => ({ ...table, primaryKey: ours.find((candidate) => candidate.name === table.name)!.primaryKey }))
}

/** Each table after the tables its foreign keys reference (users before sessions), else by name. */
function inReferenceOrder(tables: Table[]): Table[] {
  const ordered: Table[] = []
  const placed = new Set<string>()
  const names = new Set(tables.map((table) => table.name))
  while (ordered.length < tables.length) {
    const ready = tables.filter(
      (table) => !placed.has(table.name) && table.parents.every((parent) => parent === table.name || placed.has(parent) || !names.has(parent)),
    )
    if (!ready.length) throw new Error(`foreign keys form a cycle among ${tables.filter((table) => !placed.has(table.name)).map((table) => table.name).join(', ')}`)
    for (const table of ready) {
      ordered.push(table)
      placed.add(table.name)
    }
  }
  return ordered
}
