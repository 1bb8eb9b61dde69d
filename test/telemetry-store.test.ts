// The telemetry store's contract (rt.store.telemetry), whatever database is behind it: a batch's
// rows, rollups and sessions' totals go in together; rollup-only rows are counted but not kept;
// generated rows come out of the rollups again; pruning removes the oldest rows only; several
// replicas writing at once leave rollups that agree with the rows.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Slice } from '../src/db/stores/dashboard'
import { DAY, HOUR } from '../src/http/dates'
import type { LogRow } from '../src/telemetry/store'
import { TEST_SECRET, testRuntime } from './support/app'
import { onPostgres, testDatabaseUrl } from './support/database'
import { logRows } from './support/log'
import type { ReplicaPlan, ReplicaWrote } from './support/log-replica'
import { run } from './support/process'
import { countRows, rollupsDisagreeingWithTheLog, sumColumn } from './support/tables'

const rt = await testRuntime()
afterAll(() => rt.close())
const { telemetry, dashboard, populate } = rt.store

const at = Date.parse
const request = (iso: string, fields: Partial<LogRow> = {}): LogRow => ({
  requestId: Bun.randomUUIDv7(), createdAt: at(iso), method: 'POST', path: '/v1/chat/completions', status: 200,
  latencyMs: 10, userId: null, apiKeyId: null, sessionId: null, model: 'm', upstream: null, completionId: null,
  promptTokens: 1, completionTokens: 2, ttftMs: null, cost: 0.25, country: null, ip: null, userAgent: null, errorType: null,
  outcome: 'ok', ...fields,
})
const june: Slice = { scope: '', from: at('2025-06-01T00:00:00Z'), to: at('2025-07-01T00:00:00Z'), step: DAY }
const requests = async (slice = june) => (await dashboard.trafficSeries(slice)).reduce((sum, bucket) => sum + bucket.requests, 0)

describe('telemetry store', () => {
  test('a batch larger than one INSERT statement: every row kept, counted once, sessions added up', async () => {
    const user = Bun.randomUUIDv7()
    await populate.insertAccounts(
      [{ id: user, email: 'telemetry-store@example.com', name: 'T', createdAt: at('2025-05-01T00:00:00Z') }],
      [{ id: 'session-1', userId: user, provider: 'email', ip: '127.0.0.1', userAgent: 'test', country: null, createdAt: at('2025-05-01T00:00:00Z') }],
    )
    const rows = Array.from({ length: 70 }, (_, i) =>
      request(`2025-06-02T10:${String(i % 60).padStart(2, '0')}:00Z`, { userId: user, sessionId: 'session-1' }),
    )
    await telemetry.insertLogs(rows)
    expect(await logRows(rt)).toHaveLength(70)
    expect(await requests()).toBe(70)
    expect(await requests({ ...june, scope: user, step: HOUR })).toBe(70)
    expect(await dashboard.sessionStats(june)).toEqual({ sessions: 1, cost: 70 * 0.25, requests: 70 })
  })

  test('rollup-only rows are counted in the rollups but not kept', async () => {
    const before = (await logRows(rt)).length
    await telemetry.insertLogs([
      request('2025-06-03T00:00:00Z', { status: 429, outcome: 'client_error', rollupOnly: true }),
      request('2025-06-03T00:00:01Z'),
    ])
    expect((await logRows(rt)).length - before).toBe(1)
    expect(await dashboard.topValues('errors', june, 5)).toEqual([{ value: '429', requests: 1 }])
  })

  test('deleting generated rows takes them out of the rollups, real ones stay', async () => {
    const before = await requests()
    await telemetry.insertLogs([request('2025-06-04T00:00:00Z', { generated: true, model: 'generated-only' })])
    expect(await requests()).toBe(before + 1)
    expect(await telemetry.deleteGeneratedLogs()).toBe(1)
    expect(await requests()).toBe(before)
    expect((await dashboard.topValues('models', june, 5)).map((top) => top.value)).toEqual(['m'])
    expect(await telemetry.deleteGeneratedLogs()).toBe(0)
  })

  test('pruning deletes at most `limit` of the rows older than the cut, oldest first; the rollups keep them', async () => {
    const totals = await requests()
    const kept = (await logRows(rt)).length
    await telemetry.insertLogs([request('2025-05-01T00:00:00Z'), request('2025-05-02T00:00:00Z'), request('2025-05-03T00:00:00Z')])
    const cut = at('2025-06-01T00:00:00Z')
    expect(await telemetry.pruneLogs(cut, 2)).toBe(2)
    expect((await logRows(rt)).filter((row) => row.createdAt < cut).map((row) => row.createdAt)).toEqual([at('2025-05-03T00:00:00Z')])
    expect(await telemetry.pruneLogs(cut, 2)).toBe(1)
    expect(await telemetry.pruneLogs(cut, 2)).toBe(0)
    expect((await logRows(rt)).length).toBe(kept)
    expect(await requests()).toBe(totals)
  })
})

describe('several replicas writing at once', () => {
  const folder = mkdtempSync(join(tmpdir(), 'studio-replicas-'))
  afterAll(() => rmSync(folder, { recursive: true, force: true }))

  test('batches of four processes, four at a time each, interleaved: the rollups and sessions agree with the rows', async () => {
    // One database for all: a PostgreSQL schema of its own, or an SQLite file.
    const url = onPostgres ? await testDatabaseUrl() : `sqlite://${join(folder, 'replicas.db')}`
    const shared = await testRuntime({ DATABASE_URL: url })
    try {
      const users = Array.from({ length: 4 }, (_, i) => ({ id: Bun.randomUUIDv7(), email: `replica-${i}@example.com`, name: 'R', createdAt: at('2025-08-01T00:00:00Z') }))
      const sessions = users.flatMap((user) => [0, 1].map(() => ({ id: Bun.randomUUIDv7(), userId: user.id })))
      await shared.store.populate.insertAccounts(
        users,
        sessions.map((s) => ({ ...s, provider: 'email', ip: '127.0.0.1', userAgent: 'test', country: null, createdAt: at('2025-08-01T00:00:00Z') })),
      )
      const from = at('2025-08-02T22:00:00Z')
      const plan: ReplicaPlan = { startAt: Date.now() + 2_000, batches: 24, rowsPerBatch: 150, inFlight: 4, from, hours: 4, sessions }
      const replica = join(import.meta.dir, 'support', 'log-replica.ts')
      const env = { DATABASE_URL: url, SECRET_KEY: TEST_SECRET }
      const runs = await Promise.all(Array.from({ length: 4 }, () => run([process.execPath, replica, JSON.stringify(plan)], { env })))
      for (const { code, stderr } of runs) expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
      const wrote = runs.map(({ stdout }) => JSON.parse(stdout) as ReplicaWrote)
      const total = (key: keyof ReplicaWrote) => wrote.reduce((sum, w) => sum + w[key], 0)
      expect(total('rows')).toBe(4 * 24 * 150)

      expect(await rollupsDisagreeingWithTheLog(shared)).toEqual([])
      expect(await countRows(shared, 'request_logs')).toBe(total('rows'))
      const window: Slice = { scope: '', from, to: from + 4 * HOUR, step: DAY }
      const series = await shared.store.dashboard.trafficSeries(window)
      expect(series.reduce((sum, bucket) => sum + bucket.requests, 0)).toBe(total('rows'))
      expect(series.reduce((sum, bucket) => sum + bucket.tokens, 0)).toBe(total('tokens'))
      expect(await sumColumn(shared, 'sessions', 'request_count')).toBe(total('withSession'))
      expect(await shared.store.dashboard.activeUsers(window)).toBe(4)
    } finally {
      await shared.close()
    }
  }, 60_000)
})
