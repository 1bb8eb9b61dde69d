// Loaded before every test file (bunfig.toml). On PostgreSQL (TEST_DATABASE=postgres): an
// unreachable server fails the run under CI=true, and otherwise skips it out loud; the schemas
// the tests made are dropped when they end, with any left behind by an earlier, killed run.
// The Redis keys the tests made (test/support/redis.ts) are deleted when they end.
import { afterAll } from 'bun:test'
import { adminSql, onPostgres, postgresReachable, schemaPrefix } from './database'
import { deleteTestKeys } from './redis'

if (onPostgres) {
  if (!(await postgresReachable('the PostgreSQL suites'))) process.exit(0)
  const sql = adminSql()
  const dropAll = async (like: string) => {
    const rows = await sql`SELECT nspname FROM pg_namespace WHERE nspname LIKE ${like}`
    for (const { nspname } of rows as { nspname: string }[]) await sql.unsafe(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`)
  }
  // Schemas of processes that no longer run (killed before they could clean up).
  const stale = (await sql`SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\_%\_%'`) as { nspname: string }[]
  for (const { nspname } of stale) {
    const pid = Number(/^t_(\d+)_/.exec(nspname)?.[1])
    if (pid && pid !== process.pid && !alive(pid)) await sql.unsafe(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`)
  }
  afterAll(() => dropAll(`${schemaPrefix.replaceAll('_', '\\_')}%`))
}

function alive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// Keys under test:<pid>: are this process's; Redis may be unreachable here (the files that need it say so).
afterAll(() => deleteTestKeys().catch(() => {}))
