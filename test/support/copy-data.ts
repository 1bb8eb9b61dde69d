// What test/copy-data.test.ts looks at in the databases `copy-data` reads and writes: SQLite files
// dumped value for value, PostgreSQL schemas of its own (made, read, dropped). Here, so that the
// test file builds no SQL and reaches into no database handle itself.
import { Database } from 'bun:sqlite'
import { adminSql, postgresTestUrl, schemaPrefix } from './database'

/**
 * Every row of every table of an SQLite file (sqlite_sequence included, the AUTOINCREMENT
 * counters), in primary-key order, each value as SQL's quote() writes it: its type and its bytes.
 */
export function sqliteContents(path: string): Record<string, string[][]> {
  const db = new Database(path, { readonly: true })
  try {
    const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()
    return Object.fromEntries(
      tables.map(({ name }) => {
        const columns = db.query<{ name: string; pk: number }, [string]>('SELECT name, pk FROM pragma_table_info(?) ORDER BY cid').all(name)
        const key = columns.filter((column) => column.pk > 0).sort((a, b) => a.pk - b.pk).map((column) => `"${column.name}"`)
        const values = columns.map((column) => `quote("${column.name}")`).join(', ')
        return [name, db.query<string[], []>(`SELECT ${values} FROM "${name}" ORDER BY ${key.length ? key.join(', ') : 'rowid'}`).values() as string[][]]
      }),
    )
  } finally {
    db.close()
  }
}

/** The schema of an SQLite file: its tables, indexes and triggers as created. */
export function sqliteSchema(path: string) {
  const db = new Database(path, { readonly: true })
  try {
    return db.query<{ type: string; name: string; sql: string | null }, []>('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').all()
  } finally {
    db.close()
  }
}

let made = 0

/** A new, empty PostgreSQL schema, as the DATABASE_URL that names it. */
export async function postgresSchema(): Promise<{ schema: string; url: string }> {
  const schema = `${schemaPrefix}copy_${++made}`
  await adminSql().unsafe(`CREATE SCHEMA ${schema}`)
  const url = new URL(postgresTestUrl)
  url.searchParams.set('schema', schema)
  return { schema, url: url.toString() }
}

export const dropSchema = (schema: string) => adminSql().unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)

/** How many rows each table of the schema holds. */
export async function postgresCounts(schema: string): Promise<Record<string, number>> {
  const tables = (await adminSql()`
    SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = ${schema} AND table_type = 'BASE TABLE'`) as { name: string }[]
  const counts: Record<string, number> = {}
  for (const { name } of tables) counts[name] = Number((await adminSql().unsafe(`SELECT count(*) AS n FROM ${schema}.${name}`))[0].n)
  return counts
}

/** For each identity column of the schema: the largest id copied, and the id that the next insert gets. */
export async function identityPositions(schema: string): Promise<{ table: string; largest: number; next: number }[]> {
  const columns = (await adminSql()`
    SELECT table_name::text AS table, column_name::text AS column FROM information_schema.columns
     WHERE table_schema = ${schema} AND is_identity = 'YES' ORDER BY table_name`) as { table: string; column: string }[]
  const positions = []
  for (const { table, column } of columns) {
    const [row] = await adminSql().unsafe(
      `SELECT coalesce(max(${column}), 0)::int8 AS largest, nextval(pg_get_serial_sequence('${schema}.${table}', '${column}'))::int8 AS next FROM ${schema}.${table}`,
    )
    positions.push({ table, largest: Number(row.largest), next: Number(row.next) })
  }
  return positions
}

/** A user as PostgreSQL holds it, read back in the product's types. */
export async function postgresUser(schema: string, email: string) {
  const [row] = await adminSql().unsafe(`SELECT name, is_active, email_verified, created_at, last_login_at FROM ${schema}.users WHERE email = $1`, [email])
  return row && { name: row.name as string, isActive: row.is_active as boolean, emailVerified: row.email_verified as boolean, createdAt: (row.created_at as Date).getTime() }
}

/** The days of model_usage_daily as PostgreSQL's dates, as text. */
export async function postgresUsageDays(schema: string): Promise<string[]> {
  return ((await adminSql().unsafe(`SELECT DISTINCT day::text AS day FROM ${schema}.model_usage_daily ORDER BY 1`)) as { day: string }[]).map((row) => row.day)
}

/** The days of model_usage_daily in an SQLite file. */
export function sqliteUsageDays(path: string): string[] {
  const db = new Database(path, { readonly: true })
  try {
    return db.query<{ day: string }, []>('SELECT DISTINCT day FROM model_usage_daily ORDER BY 1').all().map((row) => row.day)
  } finally {
    db.close()
  }
}
