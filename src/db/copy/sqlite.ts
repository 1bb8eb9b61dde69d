// An SQLite database as one side of `copy-data`. Its rows are already in the neutral form
// (./side.ts), so nothing is converted. Reads run in one read transaction (a snapshot, in WAL
// mode) and page by primary key; writes run in one IMMEDIATE transaction. Only ordinary tables are
// copied: a search index (a virtual table and its shadow tables) is filled by its triggers.
import type { Database } from 'bun:sqlite'
import { CHUNK_ROWS, quoted, type Reader, type Row, type Side, type Table, type Writer } from './side'

export function sqliteSide(db: Database): Side {
  return {
    async tables() {
      const names = db
        .query<{ name: string }, []>("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        .all()
        .map((row) => row.name)
      return names.map((name) => {
        const columns = db.query<{ name: string; pk: number }, [string]>('SELECT name, pk FROM pragma_table_info(?) ORDER BY cid').all(name)
        const parents = db.query<{ parent: string }, [string]>('SELECT DISTINCT "table" AS parent FROM pragma_foreign_key_list(?)').all(name)
        return {
          name,
          columns: columns.map((column) => column.name),
          primaryKey: columns.filter((column) => column.pk > 0).sort((a, b) => a.pk - b.pk).map((column) => column.name),
          parents: parents.map((row) => row.parent),
        }
      })
    },

    async migrations() {
      return db.query<{ name: string }, []>('SELECT name FROM schema_migrations ORDER BY name').all().map((row) => row.name)
    },

    async snapshot(read) {
      // A deferred transaction: its first read fixes what every later read sees.
      db.exec('BEGIN')
      try {
        return await read(reader(db))
      } finally {
        db.exec('COMMIT')
      }
    },

    async transaction(write) {
      db.exec('BEGIN IMMEDIATE')
      try {
        const result = await write(writer(db))
        db.exec('COMMIT')
        return result
      } catch (error) {
        db.exec('ROLLBACK')
        throw error
      }
    },
  }
}

const count = (db: Database, table: Table) => db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${quoted(table.name)}`).get()!.n

/** sqlite_sequence exists once an AUTOINCREMENT table has been made. */
const sequences = (db: Database) =>
  db.query("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get()
    ? db.query<{ name: string; seq: number }, []>('SELECT name, seq FROM sqlite_sequence').all()
    : []

function reader(db: Database): Reader {
  return {
    count: async (table) => count(db, table),
    // AUTOINCREMENT tables remember their last id; the others hand out max(id) + 1, as the copy will.
    counters: async () => new Map(sequences(db).map((row) => [row.name, row.seq])),
    async *chunks(table) {
      // Paged by primary key (the rowid for a table without one): each page is an index range.
      const key = table.primaryKey.length ? table.primaryKey : ['rowid']
      const extra = key.filter((column) => !table.columns.includes(column))
      const at = key.map((column) => (table.columns.includes(column) ? table.columns.indexOf(column) : table.columns.length + extra.indexOf(column)))
      const select = `SELECT ${[...table.columns, ...extra].map(quoted).join(', ')} FROM ${quoted(table.name)}`
      const order = `ORDER BY ${key.map(quoted).join(', ')} LIMIT ${CHUNK_ROWS}`
      const first = db.query<Row, []>(`${select} ${order}`)
      const next = db.query<Row, never[]>(`${select} WHERE (${key.map(quoted).join(', ')}) > (${key.map(() => '?').join(', ')}) ${order}`)
      for (let rows = first.values() as Row[]; rows.length; ) {
        const last = rows[rows.length - 1]!
        yield extra.length ? rows.map((row) => row.slice(0, table.columns.length)) : rows
        if (rows.length < CHUNK_ROWS) return
        rows = next.values(...(at.map((index) => last[index]) as never[])) as Row[]
      }
    },
  }
}

function writer(db: Database): Writer {
  return {
    count: async (table) => count(db, table),
    async clear(table) {
      db.exec(`DELETE FROM ${quoted(table.name)}`)
    },
    async insert(table, chunks, stored) {
      const insert = db.prepare<unknown, never[]>(
        `INSERT INTO ${quoted(table.name)} (${table.columns.map(quoted).join(', ')}) VALUES (${table.columns.map(() => '?').join(', ')})`,
      )
      try {
        for await (const rows of chunks) {
          for (const row of rows) insert.run(...(row as never[]))
          stored(rows.length)
        }
      } finally {
        insert.finalize()
      }
    },
    // An AUTOINCREMENT table's counter (sqlite_sequence) follows the largest id inserted by itself;
    // it is moved on to the source's counter where the source handed out more (rows since deleted).
    async finish(_, counters) {
      for (const { name, seq } of sequences(db)) {
        const source = counters.get(name)
        if (source !== undefined && source > seq) db.query('UPDATE sqlite_sequence SET seq = ? WHERE name = ?').run(source, name)
      }
    },
  }
}
