// What `copy-data` needs of each database, whichever dialect it is: its tables as its own catalog
// describes them, a consistent snapshot to read from, one transaction to write into. Rows travel
// between the two in one neutral form, SQLite's (the product's own types): times as ms since the
// epoch, booleans as 0/1, dates as 'YYYY-MM-DD', numbers as numbers. A PostgreSQL side converts to
// and from it by the column types of its catalog, so a new migration needs no change here.

/** One row's values, in the order of the table's `columns`. */
export type Row = unknown[]

export type Table = {
  name: string
  columns: string[]
  /** The primary key's columns, in key order (empty if the table has none). */
  primaryKey: string[]
  /** The tables its foreign keys reference (their rows must be there first). */
  parents: string[]
}

export interface Side {
  /** Every table of the database, schema_migrations included, with its columns and keys. */
  tables(): Promise<Table[]>
  /** The names of the migrations applied to the database. */
  migrations(): Promise<string[]>
  /** Runs `read` on one consistent snapshot of the database (rows written meanwhile are not seen). */
  snapshot<T>(read: (reader: Reader) => Promise<T>): Promise<T>
  /** Runs `write` in one transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(write: (writer: Writer) => Promise<T>): Promise<T>
}

/** Per table with a generated id: the last id handed out (deleted rows' ids included). */
export type Counters = Map<string, number>

export interface Reader {
  count(table: Table): Promise<number>
  /** Where the database's id counters stand, so that the copy never hands out an id again. */
  counters(): Promise<Counters>
  /** The table's rows (its `columns`, in that order), a chunk at a time, in primary-key order. */
  chunks(table: Table): AsyncIterable<Row[]>
}

export interface Writer {
  count(table: Table): Promise<number>
  /** Deletes every row of the table (schema_migrations, which opening the database filled). */
  clear(table: Table): Promise<void>
  /** Inserts the rows as they come (their `columns`, in that order), reporting each chunk stored. */
  insert(table: Table, chunks: AsyncIterable<Row[]>, stored: (rows: number) => void): Promise<void>
  /** After the last insert: ids generated from now on follow the copied ones and the source's counters. */
  finish(tables: Table[], counters: Counters): Promise<void>
}

/** How many rows a chunk holds: large enough for few round trips, small enough for little memory. */
export const CHUNK_ROWS = 10_000

/** A table or column name as an identifier, in either dialect. */
export const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`
