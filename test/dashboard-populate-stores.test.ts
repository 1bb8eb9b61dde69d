// The dashboard's and the generator's stores (rt.store.dashboard, rt.store.populate) through
// their interfaces alone: what each method returns for known rows, so that every implementation
// can be held to the same answers.
import { testRuntime } from './support/app'
import { afterAll, describe, expect, test } from 'bun:test'
import type { Slice } from '../src/db/stores/dashboard'
import { DAY, HOUR } from '../src/http/dates'
import { createApiKey } from '../src/keys/service'
import { clearGenerated } from '../src/populate/clear'
import type { LogRow } from '../src/telemetry/store'

const rt = await testRuntime()
afterAll(() => rt.close())
const { dashboard, populate, telemetry } = rt.store

const at = Date.parse
const request = (iso: string, fields: Partial<LogRow> = {}): LogRow => ({
  requestId: Bun.randomUUIDv7(), createdAt: at(iso), method: 'POST', path: '/v1/chat/completions', status: 200,
  latencyMs: 100, userId: null, apiKeyId: null, sessionId: null, model: 'a', upstream: null, completionId: null,
  promptTokens: 1, completionTokens: 2, ttftMs: null, cost: 0.5, country: null, ip: null, userAgent: null, errorType: null,
  outcome: 'ok', generated: true, ...fields,
})

const ada = Bun.randomUUIDv7()
const bob = Bun.randomUUIDv7()
/** Three days and two hours: two partial days around two whole ones. */
const days: Slice = { scope: '', from: at('2025-03-01T05:00:00Z'), to: at('2025-03-04T07:00:00Z'), step: DAY }

describe('dashboard store', () => {
  test('an empty database: no buckets, no values, zeros', async () => {
    expect(await dashboard.trafficSeries(days)).toEqual([])
    expect(await dashboard.topValues('models', days, 10)).toEqual([])
    expect(await dashboard.activeUsers(days)).toBe(0)
    expect(await dashboard.ratingCounts(days)).toEqual([])
    expect(await dashboard.sessionStats(days)).toEqual({ sessions: 0, cost: null, requests: null })
    expect(await dashboard.threatStats(days, 5)).toEqual({ total: null, unresolved: null, critical: null, high: null, types: [] })
    expect(await dashboard.logCounts(0)).toEqual({ total: 0, recent: 0 })
  })

  test('daily buckets read whole days and the hours around them, and nothing outside the window', async () => {
    await populate.insertAccounts(
      [ada, bob].map((id, i) => ({ id, email: `store-${i}@example.com`, name: 'Store Test', createdAt: at('2025-02-01T00:00:00Z') })),
      [],
    )
    await telemetry.insertLogs([
      request('2025-03-01T04:59:59Z', { userId: ada, model: 'before' }),
      request('2025-03-01T05:00:00Z', { userId: ada }),
      request('2025-03-02T12:00:00Z', { userId: ada, model: 'b', status: 500, outcome: 'server_error', errorType: 'internal_error' }),
      // Answered from the response cache: free, and saving what it would have cost.
      request('2025-03-02T13:00:00Z', { userId: bob, country: 'Germany (DE)', cached: true, cost: 0, costSaved: 0.5 }),
      request('2025-03-04T06:59:59Z', { userId: ada }),
      request('2025-03-04T07:00:00Z', { userId: ada, model: 'after' }),
    ])
    const series = await dashboard.trafficSeries(days)
    expect(series.sort((x, y) => x.bucket - y.bucket)).toEqual([
      { bucket: at('2025-03-01T00:00:00Z'), requests: 1, successes: 1, latencyMsSum: 100, tokens: 3, cost: 0.5, completions: 1, cacheHits: 0, costSaved: 0 },
      { bucket: at('2025-03-02T00:00:00Z'), requests: 2, successes: 1, latencyMsSum: 200, tokens: 6, cost: 0.5, completions: 2, cacheHits: 1, costSaved: 0.5 },
      { bucket: at('2025-03-04T00:00:00Z'), requests: 1, successes: 1, latencyMsSum: 100, tokens: 3, cost: 0.5, completions: 1, cacheHits: 0, costSaved: 0 },
    ])
    expect(await dashboard.topValues('models', days, 10)).toEqual([
      { value: 'a', requests: 3 },
      { value: 'b', requests: 1 },
    ])
    expect(await dashboard.topValues('models', days, 1)).toEqual([{ value: 'a', requests: 3 }])
    expect(await dashboard.topValues('errors', days, 10)).toEqual([{ value: '500', requests: 1 }])
    expect(await dashboard.topValues('countries', days, 10)).toEqual([{ value: 'Germany (DE)', requests: 1 }])
    expect(await dashboard.activeUsers(days)).toBe(2)
    expect(await dashboard.activeUsers({ ...days, scope: bob })).toBe(1)
    expect(await dashboard.activeUsers({ ...days, scope: 'nobody' })).toBe(0)
    expect(await dashboard.topValues('models', { ...days, scope: bob }, 10)).toEqual([{ value: 'a', requests: 1 }])
  })

  test('hourly buckets; the log counts come from the rollups', async () => {
    const hours: Slice = { scope: '', from: at('2025-03-02T00:00:00Z'), to: at('2025-03-03T00:00:00Z'), step: HOUR }
    expect((await dashboard.trafficSeries(hours)).map((row) => [row.bucket, row.requests]).sort()).toEqual([
      [at('2025-03-02T12:00:00Z'), 1],
      [at('2025-03-02T13:00:00Z'), 1],
    ])
    expect(await dashboard.logCounts(at('2025-03-03T00:00:00Z'))).toEqual({ total: 6, recent: 2 })
  })
})

describe('populate store', () => {
  const window: Slice = { scope: '', from: at('2025-04-01T00:00:00Z'), to: at('2025-04-08T00:00:00Z'), step: DAY }
  const kept = Bun.randomUUIDv7()
  const gone = Bun.randomUUIDv7()
  const session = Bun.randomUUIDv7()

  test('generated accounts and threats show on the dashboard like real ones', async () => {
    await populate.insertAccounts(
      [kept, gone].map((id, i) => ({ id, email: `demo-store-${i}@example.com`, name: 'Demo', createdAt: at('2025-03-30T00:00:00Z') })),
      [
        { id: session, userId: gone, provider: 'email', ip: '203.0.113.1', userAgent: 'curl/8', country: null, createdAt: at('2025-04-02T00:00:00Z') },
        { id: Bun.randomUUIDv7(), userId: kept, provider: 'google', ip: '203.0.113.2', userAgent: 'curl/8', country: null, createdAt: at('2025-04-02T00:00:00Z') },
      ],
    )
    await populate.insertThreats([
      { type: 'rate_limit', severity: 'high', userId: gone, address: '203.0.113.1', detail: 'd', createdAt: at('2025-04-03T00:00:00Z'), resolvedAt: null },
      { type: 'rate_limit', severity: 'critical', userId: null, address: '203.0.113.2', detail: 'd', createdAt: at('2025-04-03T01:00:00Z'), resolvedAt: at('2025-04-04T00:00:00Z') },
      { type: 'brute_force', severity: 'low', userId: null, address: '203.0.113.3', detail: 'd', createdAt: at('2025-04-04T00:00:00Z'), resolvedAt: null },
    ])
    expect(await dashboard.threatStats(window, 5)).toEqual({
      total: 3,
      unresolved: 2,
      critical: 1,
      high: 1,
      types: [
        { type: 'rate_limit', count: 2 },
        { type: 'brute_force', count: 1 },
      ],
    })
    expect(await dashboard.threatStats(window, 1)).toMatchObject({ types: [{ type: 'rate_limit', count: 2 }] })
    // Sessions count once they have made requests.
    expect((await dashboard.sessionStats(window)).sessions).toBe(0)
    await telemetry.insertLogs([request('2025-04-02T01:00:00Z', { userId: gone, sessionId: session, cost: 2 })])
    expect(await dashboard.sessionStats(window)).toEqual({ sessions: 1, cost: 2, requests: 1 })
    expect((await dashboard.sessionStats({ ...window, scope: kept })).sessions).toBe(0)
  })

  test('removing the accounts keeps the generated users with logged requests or an API key', async () => {
    await createApiKey(rt, { userId: kept, role: 'user', email: '' }, { name: 'real use' })
    expect(await populate.deleteGeneratedAccounts()).toEqual({ threats: 3, sessions: 2, users: 0, kept: 4 })
  })

  test('clearing removes the generated requests first, then every generated user but the one put to real use', async () => {
    expect(await clearGenerated(rt)).toEqual({ requests: 7, feedback: 0, threats: 0, sessions: 0, users: 3, kept: 1 })
    expect(await dashboard.logCounts(0)).toEqual({ total: 0, recent: 0 })
    expect(await dashboard.trafficSeries(days)).toEqual([])
  })
})
