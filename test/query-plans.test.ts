// An index behind every dashboard, admin-list and sign-in query on PostgreSQL, shown through the
// HTTP surface rather than by copying the stores' SQL: over generated traffic, with sequential
// scans switched off for the app's one connection (so the planner takes any usable index, even
// on small tables), each route is called and PostgreSQL's own counters must show no sequential
// scan. What still scans has no index that can serve it (the one known case: a user search,
// which matches inside emails and names). On SQLite the same indexes exist (the migrations of
// both dialects carry them); its plans are checked where they once were not taken (admin-api).
import { afterAll, describe, expect, test } from 'bun:test'
import type { SQL } from 'bun'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { handleOf } from '../src/db/open'
import { populate } from '../src/populate/generator'
import { startRuntime } from '../src/runtime'
import { TEST_SECRET } from './support/app'
import { adminSql, postgresReachable, postgresTestUrl, schemaPrefix } from './support/database'
import { seedUser } from './support/users'

const reachable = await postgresReachable('test/query-plans.test.ts')
const schema = `${schemaPrefix}plans`
afterAll(async () => {
  if (reachable) await adminSql().unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
})

describe.if(reachable)('PostgreSQL query plans', async () => {
  const url = new URL(postgresTestUrl)
  url.searchParams.set('schema', schema)
  const rt = await startRuntime(
    loadConfig({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: '1', SECRET_KEY: TEST_SECRET, RATE_LIMIT_DASHBOARD: '0', RATE_LIMIT_AUTH: '0' }),
  )
  afterAll(() => rt.close())
  await populate(rt, [], { days: 30, users: 300, requests: 20_000 })
  const admin = await seedUser(rt, { role: 'admin' })
  const app = createApp(rt)
  // The pool's one connection: the statements below and the app's share it.
  const connection = (handleOf(rt.store) as { sql: SQL }).sql
  await connection`ANALYZE`
  await connection`SET enable_seqscan = off`

  /** Sequential scans per table so far, as PostgreSQL counts them (the app's connection flushes its counts first). */
  const sequentialScans = async () => {
    await connection`SELECT pg_stat_force_next_flush()`
    await adminSql()`SELECT pg_stat_clear_snapshot()`
    const rows = (await adminSql()`SELECT relname, seq_scan::int AS scans FROM pg_stat_user_tables WHERE schemaname = ${schema}`) as { relname: string; scans: number }[]
    return new Map(rows.map((row) => [row.relname, row.scans]))
  }
  /** The tables a request read by sequential scan. */
  const scannedBy = async (path: string, init: RequestInit = {}) => {
    const before = await sequentialScans()
    const res = await app.handle(new Request(`http://localhost${path}`, init))
    expect(res.status).toBeLessThan(300)
    await res.arrayBuffer()
    const after = await sequentialScans()
    return [...after].filter(([table, scans]) => scans > (before.get(table) ?? 0)).map(([table]) => table)
  }
  const asAdmin = { headers: { authorization: `Bearer ${admin.accessToken}` } }

  test('the dashboard, every range, for everyone and for one user', async () => {
    const user = await seedUser(rt)
    for (const range of ['24h', '7d', '3m'])
      for (const token of [admin.accessToken, user.accessToken])
        expect(await scannedBy(`/api/dashboard/?range=${range}`, { headers: { authorization: `Bearer ${token}` } })).toEqual([])
  })

  test('the admin lists, with each filter, and one row of each', async () => {
    const paths = [
      '/api/admin/users/?limit=50',
      '/api/admin/users/?role=admin',
      '/api/admin/users/?active=false',
      '/api/admin/logs/?limit=50',
      `/api/admin/logs/?userId=${admin.userId}`,
      '/api/admin/logs/?status=404',
      '/api/admin/feedback/?limit=50',
      '/api/admin/feedback/?rating=5',
      '/api/admin/threats/?limit=50',
      '/api/admin/threats/?severity=high&resolved=false',
      '/api/admin/threats/?type=brute_force',
      '/api/admin/logs/1/',
    ]
    const scans: Record<string, string[]> = {}
    for (const path of paths) scans[path] = await scannedBy(path, asAdmin)
    expect(scans).toEqual(Object.fromEntries(paths.map((path) => [path, []])))
  })

  test('sign-in, refresh, and every request signed with a token or an API key', async () => {
    const email = 'plans@example.com'
    const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(await scannedBy('/api/auth/register/', json({ email, password: 'correct horse battery', name: 'Plans' }))).toEqual([])
    const login = await app.handle(new Request('http://localhost/api/auth/login/', json({ email, password: 'correct horse battery' })))
    const { refreshToken } = (await login.json()) as { refreshToken: string }
    expect(await scannedBy('/api/auth/login/', json({ email, password: 'correct horse battery' }))).toEqual([])
    expect(await scannedBy('/api/auth/refresh/', json({ refreshToken }))).toEqual([])
    expect(await scannedBy('/api/auth/me/', asAdmin)).toEqual([])
    expect(await scannedBy('/api/auth/me/', { headers: { authorization: `Bearer ${admin.apiKey}` } })).toEqual([])
    expect(await scannedBy('/api/keys/', asAdmin)).toEqual([])
  })

  test("each admin-list filter reads its own index (not a walk of another one)", async () => {
    const indexScans = async () => {
      await connection`SELECT pg_stat_force_next_flush()`
      await adminSql()`SELECT pg_stat_clear_snapshot()`
      const rows = (await adminSql()`SELECT indexrelname, idx_scan::int AS scans FROM pg_stat_user_indexes WHERE schemaname = ${schema}`) as { indexrelname: string; scans: number }[]
      return new Map(rows.map((row) => [row.indexrelname, row.scans]))
    }
    const expected: Record<string, string> = {
      '/api/admin/users/?role=admin': 'users_role_id',
      '/api/admin/users/?active=false': 'users_active_id',
      '/api/admin/feedback/?rating=5': 'feedback_rating_id',
      '/api/admin/threats/?type=brute_force': 'threats_type_id',
      [`/api/admin/logs/?userId=${admin.userId}`]: 'request_logs_user_id',
    }
    const used: Record<string, boolean> = {}
    for (const [path, index] of Object.entries(expected)) {
      const before = await indexScans()
      const res = await app.handle(new Request(`http://localhost${path}`, asAdmin))
      await res.arrayBuffer()
      used[path] = ((await indexScans()).get(index) ?? 0) > (before.get(index) ?? 0)
    }
    expect(used).toEqual(Object.fromEntries(Object.keys(expected).map((path) => [path, true])))
  })

  test('the one query no index serves: a search inside emails and names', async () => {
    expect(await scannedBy('/api/admin/users/?search=user1', asAdmin)).toEqual(['users'])
  })
})
