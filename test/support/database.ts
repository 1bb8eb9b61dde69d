// Which database the tests run on: SQLite in memory by default, PostgreSQL when TEST_DATABASE is
// `postgres` (`bun run test` runs the store and HTTP suites a second time that way). On
// PostgreSQL each runtime gets a schema of its own (t_<pid>_<n>), dropped when the test process
// ends (./preload.ts). POSTGRES_TEST_URL overrides the server (default: this machine's, database test).
import { SQL } from 'bun'

export const onPostgres = process.env.TEST_DATABASE === 'postgres'

export const postgresTestUrl = process.env.POSTGRES_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** The prefix of the schemas this process makes. */
export const schemaPrefix = `t_${process.pid}_`

let made = 0
let admin: SQL | undefined

/** A connection for making and dropping schemas. */
export const adminSql = () => (admin ??= new SQL({ url: postgresTestUrl, max: 2 }))

/** A DATABASE_URL for one runtime: SQLite in memory, or a new, empty PostgreSQL schema. */
export async function testDatabaseUrl(): Promise<string> {
  if (!onPostgres) return 'sqlite://:memory:'
  const schema = `${schemaPrefix}${++made}`
  await adminSql().unsafe(`CREATE SCHEMA ${schema}`)
  const url = new URL(postgresTestUrl)
  url.searchParams.set('schema', schema)
  return url.toString()
}

/**
 * Whether PostgreSQL answers, for test files that need it whatever TEST_DATABASE says. Under
 * CI=true an unreachable server throws (the run fails); elsewhere it is said out loud.
 */
export async function postgresReachable(what: string): Promise<boolean> {
  try {
    await adminSql()`SELECT 1`
    return true
  } catch (error) {
    const reason = `PostgreSQL at ${postgresTestUrl} is unreachable (${(error as Error).message})`
    if (process.env.CI === 'true') throw new Error(`${reason}: ${what} cannot run`)
    console.warn(`\n*** ${reason}: ${what} SKIPPED (with CI=true this fails the run) ***\n`)
    return false
  }
}
