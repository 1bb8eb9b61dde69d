// Opens the pool of PostgreSQL connections a server shares (Bun's built-in SQL client), sized by
// DATABASE_POOL_SIZE, with the URL's `?schema=` as every connection's search_path. A database
// that cannot be reached is a configuration error naming DATABASE_URL (never its password).
import { SQL } from 'bun'
import { ConfigError, type DatabaseLocation } from '../../config'

export type PostgresLocation = Extract<DatabaseLocation, { kind: 'postgres' }>

export async function openPostgres(location: PostgresLocation): Promise<SQL> {
  const sql = new SQL({
    url: location.url,
    max: location.poolSize,
    connectionTimeout: 10,
    ...(location.schema ? { connection: { search_path: location.schema } } : {}),
  })
  try {
    await sql`SELECT 1`
  } catch (error) {
    await sql.close().catch(() => {})
    throw new ConfigError('DATABASE_URL', `a PostgreSQL server this process can reach (${describe(error)})`)
  }
  return sql
}

/** What went wrong, without the URL (which may carry a password). */
function describe(error: unknown) {
  const { code, message } = error as { code?: string; message?: string }
  return [code, message].filter(Boolean).join(': ').replaceAll(/postgres(ql)?:\/\/\S+/g, 'postgres://…')
}
