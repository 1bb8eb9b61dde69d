// A PostgreSQL database (the URL's schema) as one side of `copy-data`. What each column holds
// comes from the catalog (information_schema.columns), which says how its values convert to and
// from the neutral form (./side.ts): timestamptz ↔ ms, boolean ↔ 0/1, date ↔ 'YYYY-MM-DD'.
// Reads run in one REPEATABLE READ READ ONLY transaction (a snapshot) through a cursor; writes run
// in one transaction, each table through COPY … FROM STDIN, the fastest way in; identity columns'
// sequences are then set past the largest copied id.
import type { SQL } from 'bun'
import { CHUNK_ROWS, quoted, type Reader, type Row, type Side, type Table, type Writer } from './side'

/** How a column's values convert; `plain` ones (text, integer, double precision) need nothing. */
type Kind = 'time' | 'boolean' | 'text' | 'number' | 'plain'

type Column = { table_name: string; column_name: string; data_type: string; generated_id: boolean }

function kindOf(dataType: string): Kind {
  if (dataType.startsWith('timestamp')) return 'time'
  if (dataType === 'boolean') return 'boolean'
  // Read as their text: 'YYYY-MM-DD', JSON text.
  if (dataType === 'date' || dataType === 'json' || dataType === 'jsonb') return 'text'
  // Bun returns these as strings (they may not fit a double).
  if (dataType === 'bigint' || dataType === 'numeric') return 'number'
  return 'plain'
}

export function postgresSide(sql: SQL): Side {
  let catalog: Promise<Column[]> | undefined
  const columns = () =>
    (catalog ??= sql`
      SELECT table_name::text, column_name::text, data_type::text,
             (is_identity = 'YES' OR column_default LIKE 'nextval(%') AS generated_id
        FROM information_schema.columns
       WHERE table_schema = current_schema()
       ORDER BY table_name, ordinal_position` as Promise<Column[]>)
  const kinds = async (table: Table) => {
    const all = await columns()
    return table.columns.map((name) => kindOf(all.find((column) => column.table_name === table.name && column.column_name === name)!.data_type))
  }

  return {
    async tables() {
      const [all, keys, references] = await Promise.all([
        columns(),
        sql`
          SELECT key.table_name::text, key.column_name::text
            FROM information_schema.table_constraints constraints
            JOIN information_schema.key_column_usage key USING (constraint_schema, constraint_name, table_name)
           WHERE constraints.constraint_type = 'PRIMARY KEY' AND constraints.table_schema = current_schema()
           ORDER BY key.ordinal_position` as Promise<{ table_name: string; column_name: string }[]>,
        sql`
          SELECT DISTINCT child.relname::text AS child, parent.relname::text AS parent
            FROM pg_constraint reference
            JOIN pg_class child ON child.oid = reference.conrelid
            JOIN pg_class parent ON parent.oid = reference.confrelid
           WHERE reference.contype = 'f' AND child.relnamespace = current_schema()::regnamespace` as Promise<{ child: string; parent: string }[]>,
      ])
      const tables = await (sql`
        SELECT table_name::text AS name FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name` as Promise<{ name: string }[]>)
      return tables.map(({ name }) => ({
        name,
        columns: all.filter((column) => column.table_name === name).map((column) => column.column_name),
        primaryKey: keys.filter((key) => key.table_name === name).map((key) => key.column_name),
        parents: references.filter((reference) => reference.child === name).map((reference) => reference.parent),
      }))
    },

    async migrations() {
      return ((await sql`SELECT name FROM schema_migrations ORDER BY name`) as { name: string }[]).map((row) => row.name)
    },

    snapshot: (read) => sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', (tx) => read(reader(tx, kinds, columns))),

    transaction: (write) => sql.begin((tx) => write(writer(tx, kinds, columns))),
  }
}

const count = async (sql: SQL, table: Table) => Number((await sql.unsafe(`SELECT count(*) AS n FROM ${quoted(table.name)}`))[0].n)

/** A value read from PostgreSQL, in the neutral form. */
const neutral: Record<Kind, (value: unknown) => unknown> = {
  time: (value) => (value as Date).getTime(),
  boolean: (value) => (value ? 1 : 0),
  number: (value) => Number(value),
  text: (value) => value,
  plain: (value) => value,
}

/** The sequence behind a generated id column. */
const sequenceOf = (column: Column) => [quoted(column.table_name), column.column_name]

function reader(tx: SQL, kinds: (table: Table) => Promise<Kind[]>, columns: () => Promise<Column[]>): Reader {
  return {
    count: (table) => count(tx, table),
    async counters() {
      const counters = new Map<string, number>()
      for (const column of await columns()) {
        if (!column.generated_id) continue
        // The name comes from PostgreSQL itself, quoted as needed.
        const [{ sequence }] = await tx.unsafe('SELECT pg_get_serial_sequence($1, $2) AS sequence', sequenceOf(column))
        const [row] = await tx.unsafe(`SELECT last_value, is_called FROM ${sequence}`)
        if (row.is_called) counters.set(column.table_name, Number(row.last_value))
      }
      return counters
    },
    async *chunks(table) {
      const columnKinds = await kinds(table)
      const select = table.columns.map((column, i) => (columnKinds[i] === 'text' ? `${quoted(column)}::text` : quoted(column)))
      const order = table.primaryKey.length ? ` ORDER BY ${table.primaryKey.map(quoted).join(', ')}` : ''
      await tx.unsafe(`DECLARE copy_rows NO SCROLL CURSOR FOR SELECT ${select.join(', ')} FROM ${quoted(table.name)}${order}`)
      try {
        const fetch = () => tx.unsafe(`FETCH ${CHUNK_ROWS} FROM copy_rows`).values() as Promise<Row[]>
        // The next chunk is on its way while this one is written.
        for (let pending = fetch(); ; ) {
          const rows = await pending
          if (!rows.length) return
          pending = fetch()
          pending.catch(() => {})
          for (const row of rows)
            for (let i = 0; i < row.length; i++) if (row[i] !== null && columnKinds[i] !== 'plain') row[i] = neutral[columnKinds[i]!](row[i])
          yield rows
        }
      } finally {
        await tx.unsafe('CLOSE copy_rows')
      }
    },
  }
}

/** A neutral value as a field of COPY's text format. */
const copyField: Record<Kind, (value: unknown) => string> = {
  time: (value) => new Date(value as number).toISOString(),
  boolean: (value) => (value ? 't' : 'f'),
  number: (value) => String(value),
  text: (value) => escaped(value),
  plain: (value) => (typeof value === 'number' ? String(value) : escaped(value)),
}

/** Backslash, tab, newline and carriage return are what COPY's text format escapes. */
const escaped = (value: unknown) => String(value).replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!)

function writer(tx: SQL, kinds: (table: Table) => Promise<Kind[]>, columns: () => Promise<Column[]>): Writer {
  return {
    count: (table) => count(tx, table),
    async clear(table) {
      await tx.unsafe(`DELETE FROM ${quoted(table.name)}`)
    },
    async insert(table, chunks, stored) {
      const columnKinds = await kinds(table)
      const encode = columnKinds.map((kind) => copyField[kind])
      let copy: { query: ReturnType<SQL['unsafe']>; stream: WritableStreamDefaultWriter } | undefined
      try {
        for await (const rows of chunks) {
          let text = ''
          for (const row of rows) {
            for (let i = 0; i < row.length; i++) text += (i ? '\t' : '') + (row[i] === null ? '\\N' : encode[i]!(row[i]))
            text += '\n'
          }
          if (!copy) {
            const query = tx.unsafe(`COPY ${quoted(table.name)} (${table.columns.map(quoted).join(', ')}) FROM STDIN`)
            copy = { query, stream: query.writable().getWriter() }
          }
          await copy.stream.write(text)
          stored(rows.length)
        }
        if (copy) {
          await copy.stream.close()
          await copy.query
        }
      } catch (error) {
        await copy?.stream.abort(error).catch(() => {})
        throw error
      }
    },
    async finish(tables, counters) {
      const names = new Set(tables.map((table) => table.name))
      for (const column of await columns()) {
        if (!column.generated_id || !names.has(column.table_name)) continue
        // Past the largest id copied and the source's own counter (rows since deleted); setval(…, NULL)
        // does nothing: the sequence of an empty table with no counter starts at 1 as it would.
        await tx.unsafe(
          `SELECT setval(pg_get_serial_sequence($1, $2), greatest(max(${quoted(column.column_name)}), $3::bigint)) FROM ${quoted(column.table_name)}`,
          [...sequenceOf(column), counters.get(column.table_name) ?? null],
        )
      }
    },
  }
}
