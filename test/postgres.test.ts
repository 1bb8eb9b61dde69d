// PostgreSQL as the database: DATABASE_URL's forms and mistakes, the schema the migrations make
// (PostgreSQL's own types), and replicas starting together on one database migrating it once.
// Runs against the machine's PostgreSQL (POSTGRES_TEST_URL), each test in a schema of its own.
import { afterAll, describe, expect, test } from 'bun:test'
import { resolve } from 'node:path'
import { ConfigError, loadConfig } from '../src/config'
import { openStore } from '../src/db/open'
import { migrations } from '../src/db/migrations'
import { migrate } from '../src/db/postgres/migrate'
import { openPostgres } from '../src/db/postgres/database'
import { startRuntime } from '../src/runtime'
import { adminSql, postgresReachable, postgresTestUrl, schemaPrefix } from './support/database'
import { testApp } from './support/app'
import { run } from './support/process'
import { tcpProxy } from './support/tcp-proxy'
import { seedUser } from './support/users'

const reachable = await postgresReachable('test/postgres.test.ts')
const describeOnPostgres = reachable ? describe : describe.skip
const sql = adminSql()
let made = 0
const schemas: string[] = []
/** A schema name of this process that does not exist yet (dropped after the file). */
const newSchema = () => {
  const name = `${schemaPrefix}pg${++made}`
  schemas.push(name)
  return name
}
const urlWith = (schema: string) => {
  const url = new URL(postgresTestUrl)
  url.searchParams.set('schema', schema)
  return url.toString()
}
afterAll(async () => {
  for (const schema of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
})

describeOnPostgres('DATABASE_URL on PostgreSQL', () => {
  test('postgres:// and postgresql:// URLs, ?schema= and DATABASE_POOL_SIZE', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://app:secret@db.internal:5433/studio?sslmode=require&schema=gateway', DATABASE_POOL_SIZE: '25' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://app:secret@db.internal:5433/studio?sslmode=require',
      schema: 'gateway',
      poolSize: 25,
    })
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/studio' }).database).toMatchObject({ kind: 'postgres', schema: undefined, poolSize: 10 })
  })

  test('mistakes name the variable and never repeat a password', () => {
    const mistakes = {
      'mysql://root:hunter2@db/studio': 'DATABASE_URL: expected sqlite://<path>',
      'postgres://user:hunter2@db/studio?schema=drop;table': '?schema= to name a schema',
      'postgres://user:hunter2@:5432/studio': 'could not be read',
    }
    for (const [url, message] of Object.entries(mistakes)) {
      const error = (() => {
        try {
          loadConfig({ DATABASE_URL: url })
        } catch (error) {
          return error as Error
        }
      })()
      expect(error).toBeInstanceOf(ConfigError)
      expect(error!.message).toContain(message)
      expect(error!.message).not.toContain('hunter2')
    }
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/studio', DATABASE_POOL_SIZE: '0' })).toThrow('DATABASE_POOL_SIZE')
  })

  test('a server that cannot be reached is a configuration error without the password', async () => {
    const location = loadConfig({ DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/test' }).database
    const failure = await openStore(location).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ConfigError)
    expect((failure as Error).message).toStartWith('DATABASE_URL: expected a PostgreSQL server this process can reach')
    expect((failure as Error).message).not.toContain('hunter2')
  })

  test('the command line prints it as one line and exits 1', async () => {
    const { code, stdout, stderr } = await run([process.execPath, resolve(import.meta.dir, '../src/index.ts'), 'migrate'], {
      env: { DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/test' },
    })
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^configuration error: DATABASE_URL: expected a PostgreSQL server/)])
    expect(stderr).not.toContain('hunter2')
  })
})

describeOnPostgres('migrations on PostgreSQL', () => {
  test('make the schema named by ?schema=, in PostgreSQL types, and record every migration', async () => {
    const schema = newSchema()
    const { store, applied } = await openStore(loadConfig({ DATABASE_URL: urlWith(schema) }).database)
    await store.close()
    expect(applied).toEqual(migrations.postgres.map((migration) => migration.name))
    const columns = (await sql`
      SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = ${schema}
    `) as { table_name: string; column_name: string; data_type: string }[]
    const type = (table: string, column: string) => columns.find((c) => c.table_name === table && c.column_name === column)?.data_type
    expect(type('users', 'created_at')).toBe('timestamp with time zone')
    expect(type('users', 'is_active')).toBe('boolean')
    expect(type('request_logs', 'id')).toBe('bigint')
    expect(type('request_logs', 'created_at')).toBe('timestamp with time zone')
    expect(type('rollup_traffic', 'bucket')).toBe('timestamp with time zone')
    expect(type('model_usage_daily', 'day')).toBe('date')
    const tables = new Set(columns.map((c) => c.table_name))
    for (const table of ['settings', 'users', 'identities', 'sessions', 'refresh_tokens', 'api_keys', 'request_logs', 'feedback', 'threats', 'model_usage_daily', 'sign_in_unblocks', 'schema_migrations'])
      expect(tables).toContain(table)
  })

  test('are applied once, and a failing one leaves nothing behind', async () => {
    const location = loadConfig({ DATABASE_URL: urlWith(newSchema()) }).database as Extract<ReturnType<typeof loadConfig>['database'], { kind: 'postgres' }>
    const db = await openPostgres(location)
    try {
      expect(await migrate(db, location.schema)).toHaveLength(migrations.postgres.length)
      expect(await migrate(db, location.schema)).toEqual([])
      const broken = [...migrations.postgres, { name: '9999_broken', sql: 'CREATE TABLE half (id integer); SELECT * FROM no_such_table;' }]
      expect(migrate(db, location.schema, broken)).rejects.toThrow('no_such_table')
      await Bun.sleep(50)
      expect(await db`SELECT to_regclass('half') AS half`).toEqual([{ half: null }])
      expect(await db`SELECT name FROM schema_migrations WHERE name = '9999_broken'`).toHaveLength(0)
    } finally {
      await db.close()
    }
  })

  test('replicas starting together migrate once: one applies, the others wait and then serve', async () => {
    const schema = newSchema()
    const entry = resolve(import.meta.dir, '../src/index.ts')
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () => run([process.execPath, entry, 'migrate'], { env: { DATABASE_URL: urlWith(schema) } })),
    )
    for (const output of outputs) expect(output).toMatchObject({ code: 0, stderr: '' })
    const lines = outputs.map((output) => output.stdout.trim()).sort()
    expect(lines.filter((line) => line.startsWith('applied: '))).toHaveLength(1)
    expect(lines.filter((line) => line === 'the database is up to date')).toHaveLength(3)
    const recorded = await sql.unsafe(`SELECT name, count(*)::int AS n FROM ${schema}.schema_migrations GROUP BY name`)
    expect(recorded).toHaveLength(migrations.postgres.length)
    for (const row of recorded as { n: number }[]) expect(row.n).toBe(1)
  }, 20_000) // four processes starting at once on a shared machine

  test('without SECRET_KEY, replicas share one generated key', async () => {
    const url = urlWith(newSchema())
    const [first, second] = await Promise.all([startRuntime(loadConfig({ DATABASE_URL: url })), startRuntime(loadConfig({ DATABASE_URL: url }))])
    expect(first!.secretKey.length).toBeGreaterThanOrEqual(32)
    expect(second!.secretKey).toBe(first!.secretKey)
    await Promise.all([first!.close(), second!.close()])
  })
})

describeOnPostgres('PostgreSQL lost mid-run', () => {
  test('requests that need it answer 503 database_unavailable (never 500), and a threat raised meanwhile is written once it is back', async () => {
    const schema = newSchema()
    const proxy = await tcpProxy(urlWith(schema))
    const { rt, call, close } = await testApp({ DATABASE_URL: proxy.url })
    try {
      const { accessToken } = await seedUser(rt)
      expect((await call('/api/auth/me/', { token: accessToken })).status).toBe(200)
      proxy.stop()
      const refused = await call('/api/auth/me/', { token: 'sk-studio-not-a-known-key-0123456789' })
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toBe('1')
      expect(JSON.stringify(await refused.json())).toContain('The database cannot be reached')
      rt.store.threats.record({ type: 'invalid_token', severity: 'low', detail: 'raised while the database was away' }, Date.now())
      await Bun.sleep(300)
      proxy.start()
      let found = false
      for (let i = 0; i < 100 && !found; i++) {
        await Bun.sleep(50)
        found = (await rt.store.threats.list({ limit: 10 }).catch(() => ({ items: [] }))).items.some((t) => t.detail.startsWith('raised while'))
      }
      expect(found).toBe(true)
    } finally {
      proxy.stop()
      await close()
    }
  }, 15_000)
})
