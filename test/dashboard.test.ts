// GET /api/dashboard/: what was sent through the gateway shows up with the right counts,
// tokens and cost; ranges, buckets and validation; admins see all, users their own.
import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { withFakeChat } from './support/fake-chat'
import { logRows, settle } from './support/log'
import { countRows, insertThreatRows, threatsOfSeverity } from './support/tables'
import { seedUser } from './support/users'

const { rt, app, call, close } = await testApp({ MODEL_PRICES: '{"priced": {"input": 3, "output": 15}}' })
withFakeChat(app, rt)
afterAll(close)

const HOUR = 3_600_000
const DAY = 24 * HOUR
const isoSecond = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

const admin = await seedUser(rt, { role: 'admin' })
const alice = await seedUser(rt)
const bob = await seedUser(rt)

type Dashboard = {
  range: string
  generatedAt: string
  requests: { timestamp: string; success: number; error: number }[]
  costs: { timestamp: string; cost: number }[]
  latency: { timestamp: string; latency: number }[]
  errorsBreakdown: { label: string; value: number }[]
  topModels: { name: string; requests: number }[]
  topCountries: { name: string; requests: number }[]
  summary: Record<string, number>
  users: Record<string, number>
  feedback: { totalFeedback: number; avgRating: number; ratingDistribution: Record<string, number> }
  threats: { totalThreats: number; unresolvedThreats: number; criticalThreats: number; highThreats: number; topThreatTypes: { type: string; count: number }[] }
}

const dashboard = async (token: string, query = '') => {
  const res = await call(`/api/dashboard/${query}`, { token })
  expect(res.status).toBe(200)
  return (await res.json()) as Dashboard
}

// What each user sends, and so what their dashboards must show.
const complete = (token: string, model: string, promptTokens: number, completionTokens: number, fail?: number) =>
  call('/v1/test/completions', { method: 'POST', token, json: { model, promptTokens, completionTokens, fail } })

const sent = { alice: { requests: 0, ok: 0, tokens: 0, cost: 0 }, bob: { requests: 0, ok: 0, tokens: 0, cost: 0 } }
for (let i = 0; i < 6; i++) {
  await complete(alice.accessToken, 'priced', 1000, 200)
  sent.alice.requests++, sent.alice.ok++, (sent.alice.tokens += 1200), (sent.alice.cost += (1000 * 3 + 200 * 15) / 1e6)
}
for (let i = 0; i < 2; i++) {
  await complete(alice.apiKey, 'local', 50, 50, 503)
  sent.alice.requests++
}
const stream = await call('/v1/test/stream', {
  method: 'POST',
  token: alice.accessToken,
  headers: { 'x-forwarded-for': '8.8.8.8' },
  json: { model: 'local', promptTokens: 30, chunks: 4, delayMs: 1 },
})
await stream.text()
sent.alice.requests++, sent.alice.ok++, (sent.alice.tokens += 34)
for (let i = 0; i < 3; i++) {
  await complete(bob.apiKey, 'priced', 10, 10)
  sent.bob.requests++, sent.bob.ok++, (sent.bob.tokens += 20), (sent.bob.cost += (10 * 3 + 10 * 15) / 1e6)
}
// Anonymous traffic: counted for admins, for no user.
await call('/api/auth/health/')
await call('/v1/nothing-here')
await settle(rt)

describe('figures match what was sent', () => {
  test("a user's dashboard: requests, successes, errors, tokens and cost of their own traffic", async () => {
    const body = await dashboard(alice.accessToken, '?range=24h')
    expect(body.summary.totalRequests).toBe(sent.alice.requests)
    expect(body.summary.successfulRequests).toBe(sent.alice.ok)
    expect(body.summary.totalTokens).toBe(sent.alice.tokens)
    expect(body.summary.totalCost).toBeCloseTo(sent.alice.cost, 6)
    expect(body.summary.avgTokensPerRequest).toBeCloseTo(sent.alice.tokens / sent.alice.requests, 2)
    expect(body.summary.avgCostPerRequest).toBeCloseTo(sent.alice.cost / sent.alice.requests, 6)
    expect(body.summary.avgLatencyMs).toBeGreaterThan(0)
    const series = body.requests.reduce((sum, p) => ({ ok: sum.ok + p.success, error: sum.error + p.error }), { ok: 0, error: 0 })
    expect(series).toEqual({ ok: sent.alice.ok, error: sent.alice.requests - sent.alice.ok })
    expect(body.costs.reduce((sum, p) => sum + p.cost, 0)).toBeCloseTo(sent.alice.cost, 6)
    expect(body.errorsBreakdown).toEqual([{ label: '503', value: 2 }])
    expect(body.topModels).toEqual([
      { name: 'priced', requests: 6 },
      { name: 'local', requests: 3 },
    ])
    expect(body.users).toEqual({ activeUsers: 1, totalSessions: 1, avgSessionCost: expect.any(Number), avgSessionRequests: 7 })
    expect(body.threats).toEqual({ totalThreats: 0, unresolvedThreats: 0, criticalThreats: 0, highThreats: 0, topThreatTypes: [] })
  })

  test('another user sees only their own traffic', async () => {
    const body = await dashboard(bob.accessToken, '?range=7d')
    expect(body.summary.totalRequests).toBe(sent.bob.requests)
    expect(body.summary.totalTokens).toBe(sent.bob.tokens)
    expect(body.summary.totalCost).toBeCloseTo(sent.bob.cost, 6)
    expect(body.topModels).toEqual([{ name: 'priced', requests: 3 }])
    expect(body.errorsBreakdown).toEqual([])
    expect(body.users.activeUsers).toBe(1)
  })

  test('an admin sees everyone, anonymous requests and their own dashboard calls included', async () => {
    await settle(rt)
    const logged = (await logRows(rt)).length
    const body = await dashboard(admin.accessToken, '?range=24h')
    expect(body.summary.totalRequests).toBe(logged)
    expect(body.summary.totalTokens).toBe(sent.alice.tokens + sent.bob.tokens)
    expect(body.summary.totalCost).toBeCloseTo(sent.alice.cost + sent.bob.cost, 6)
    expect(body.users.activeUsers).toBe(2) // alice and bob; this call is logged after it answers
    expect(body.topModels).toEqual([
      { name: 'priced', requests: 9 },
      { name: 'local', requests: 3 },
    ])
    expect(body.errorsBreakdown).toContainEqual({ label: '503', value: 2 })
    expect(body.errorsBreakdown).toContainEqual({ label: '404', value: 1 })
  })

  test("a dashboard read sees the caller's latest requests without waiting for the batch window", async () => {
    const carol = await seedUser(rt)
    await complete(carol.apiKey, 'priced', 1, 1)
    await new Promise((resolve) => setImmediate(resolve))
    expect((await dashboard(carol.accessToken)).summary.totalRequests).toBe(1)
  })

  test('countries come from the request log', async () => {
    const body = await dashboard(admin.accessToken, '?range=24h')
    expect(body.topCountries).toEqual([])
    const other = await testApp({ TRUST_PROXY: 'true' })
    const viewer = await seedUser(other.rt, { role: 'admin' })
    await other.call('/api/auth/health/', { headers: { 'cf-ipcountry': 'US' } })
    await other.call('/api/auth/health/', { headers: { 'cf-ipcountry': 'US' } })
    await other.call('/api/auth/health/', { headers: { 'x-forwarded-for': '81.2.69.160' } })
    await settle(other.rt)
    const res = await other.call('/api/dashboard/?range=7d', { token: viewer.accessToken })
    expect((await res.json()).topCountries).toEqual([
      { name: 'United States (US)', requests: 2 },
      { name: 'United Kingdom (GB)', requests: 1 },
    ])
    await other.close()
  })

  test('threats (from the protection feature\'s table) are shown to admins only', async () => {
    const now = Date.now()
    await insertThreatRows(rt, [
      { type: 'rate_limit', severity: 'medium', userId: alice.userId, createdAt: now - 1000, resolved: false },
      { type: 'rate_limit', severity: 'high', userId: alice.userId, createdAt: now - 2000, resolved: true, generated: true },
      { type: 'suspicious_content', severity: 'critical', userId: bob.userId, createdAt: now - 3000, resolved: false },
      { type: 'rate_limit', severity: 'low', userId: null, createdAt: now - 40 * DAY, resolved: false },
    ])
    const body = await dashboard(admin.accessToken, '?range=7d')
    expect(body.threats).toEqual({
      totalThreats: 3,
      unresolvedThreats: 2,
      criticalThreats: 1,
      highThreats: 1,
      topThreatTypes: [
        { type: 'rate_limit', count: 2 },
        { type: 'suspicious_content', count: 1 },
      ],
    })
    expect((await dashboard(admin.accessToken, '?range=3m')).threats.totalThreats).toBe(4)
    expect((await dashboard(alice.accessToken, '?range=7d')).threats.totalThreats).toBe(0)

    // Resolving (as admins do), reclassifying and deleting (the generated one, as
    // populate-dashboard-data --clear does) show at once.
    await threatsOfSeverity(rt, 'critical').resolve(now)
    await threatsOfSeverity(rt, 'medium').retype('payload_flood')
    expect((await rt.store.populate.deleteGeneratedAccounts()).threats).toBe(1)
    expect((await dashboard(admin.accessToken, '?range=7d')).threats).toEqual({
      totalThreats: 2,
      unresolvedThreats: 1,
      criticalThreats: 1,
      highThreats: 0,
      topThreatTypes: [
        { type: 'payload_flood', count: 1 },
        { type: 'suspicious_content', count: 1 },
      ],
    })
    expect((await dashboard(admin.accessToken, '?range=24h')).threats.totalThreats).toBe(2)
  })
})

describe('ranges and buckets', () => {
  const consecutive = (points: { timestamp: string }[], step: number) =>
    points.every((p, i) => i === 0 || Date.parse(p.timestamp) - Date.parse(points[i - 1]!.timestamp) === step)

  test('no range means 24h: 24 hourly buckets ending with the current hour, zeros included', async () => {
    const before = Date.now()
    const body = await dashboard(admin.accessToken)
    // The hour may turn while the request is answered: its bucket is the current hour of then or of now.
    const currentHours = [before - (before % HOUR), Date.now() - (Date.now() % HOUR)]
    expect(body.range).toBe('24h')
    for (const series of [body.requests, body.costs, body.latency]) {
      expect(series).toHaveLength(24)
      expect(consecutive(series, HOUR)).toBe(true)
      expect(currentHours).toContain(Date.parse(series.at(-1)!.timestamp))
      for (const point of series) expect(point.timestamp).toMatch(isoSecond)
    }
    expect(body.requests.filter((p) => p.success + p.error === 0).length).toBeGreaterThan(0)
  })

  test.each([
    ['7d', 7],
    ['1m', 30],
    ['3m', 90],
  ])('%s: %i daily buckets ending today (UTC)', async (range, days) => {
    const before = Date.now()
    const body = await dashboard(admin.accessToken, `?range=${range}`)
    expect(body.range).toBe(range)
    expect(body.requests).toHaveLength(days)
    expect(consecutive(body.requests, DAY)).toBe(true)
    expect([before - (before % DAY), Date.now() - (Date.now() % DAY)]).toContain(Date.parse(body.requests.at(-1)!.timestamp))
    expect(body.costs.map((p) => p.timestamp)).toEqual(body.requests.map((p) => p.timestamp))
  })

  test("custom: the seed's example gives 15 daily buckets from 2025-07-01", async () => {
    const body = await dashboard(admin.accessToken, '?range=custom&start=2025-07-01T00:00:00Z&end=2025-07-15T23:59:59Z')
    expect(body.range).toBe('custom')
    expect(body.requests).toHaveLength(15)
    expect(body.requests[0]!.timestamp).toBe('2025-07-01T00:00:00Z')
    expect(body.summary.totalRequests).toBe(0)
  })

  test('custom: bounds inside a day count the hours inside them, the whole days between them entirely', async () => {
    const own = await testApp()
    const carol = await seedUser(own.rt)
    const dashboard = async (token: string, query: string) => (await (await own.call(`/api/dashboard/${query}`, { token })).json()) as Dashboard
    const at = (iso: string, model: string) => ({
      requestId: Bun.randomUUIDv7(), createdAt: Date.parse(iso), method: 'POST', path: '/v1/chat/completions', status: 200,
      latencyMs: 100, userId: carol.userId, apiKeyId: null, sessionId: null, model, upstream: null, completionId: null,
      promptTokens: 1, completionTokens: 1, ttftMs: null, cost: 0, country: null, ip: null, userAgent: null, errorType: null,
      outcome: 'ok' as const,
    })
    await own.rt.store.telemetry.insertLogs([
      at('2025-03-01T04:59:59Z', 'before'),
      at('2025-03-01T05:00:00Z', 'first-day'),
      at('2025-03-02T12:00:00Z', 'middle'),
      at('2025-03-03T23:59:59Z', 'middle'),
      at('2025-03-04T06:59:59Z', 'last-day'),
      at('2025-03-04T07:00:00Z', 'after'),
    ])
    const body = await dashboard(carol.accessToken, '?range=custom&start=2025-03-01T05:00:00Z&end=2025-03-04T07:00:00Z')
    expect(body.summary.totalRequests).toBe(4)
    expect(body.requests.map((point) => [point.timestamp, point.success])).toEqual([
      ['2025-03-01T00:00:00Z', 1],
      ['2025-03-02T00:00:00Z', 1],
      ['2025-03-03T00:00:00Z', 1],
      ['2025-03-04T00:00:00Z', 1],
    ])
    expect(body.topModels).toEqual([
      { name: 'middle', requests: 2 },
      { name: 'first-day', requests: 1 },
      { name: 'last-day', requests: 1 },
    ])
    expect(body.users.activeUsers).toBe(1)
    const wholeDays = await dashboard(carol.accessToken, '?range=custom&start=2025-03-02&end=2025-03-04')
    expect(wholeDays.summary.totalRequests).toBe(2)
    const withinOneDay = await dashboard(carol.accessToken, '?range=custom&start=2025-03-04T01:00:00Z&end=2025-03-04T08:00:00Z')
    expect(withinOneDay.topModels.map((model) => model.name).sort()).toEqual(['after', 'last-day'])
    await own.close()
  })

  test('custom: a window around now counts the traffic in it, and one before it none', async () => {
    const now = Date.now()
    const around = await dashboard(
      admin.accessToken,
      `?range=custom&start=${new Date(now - 2 * DAY).toISOString()}&end=${new Date(now + HOUR).toISOString()}`,
    )
    expect(around.summary.totalRequests).toBeGreaterThanOrEqual(sent.alice.requests + sent.bob.requests)
    expect(around.requests.length).toBeGreaterThanOrEqual(3)
    const before = await dashboard(
      admin.accessToken,
      `?range=custom&start=${new Date(now - 10 * DAY).toISOString()}&end=${new Date(now - 3 * DAY).toISOString()}`,
    )
    expect(before.summary.totalRequests).toBe(0)
  })

  test.each([
    ['?range=2w', 'range'],
    ['?range=custom', "'start' is missing"],
    ['?range=custom&start=2025-07-01', "'end' is missing"],
    ['?range=custom&start=yesterday&end=2025-07-15', "'start' must be an ISO 8601"],
    ['?range=custom&start=2025-07-01&end=2025-13-01', "'end' must be an ISO 8601"],
    ['?range=custom&start=2025-02-30&end=2025-03-15', "'start' must be an ISO 8601"],
    ['?range=custom&start=2025-02-01&end=2024-02-30T10:00Z', "'end' must be an ISO 8601"],
    ['?range=custom&start=2025-07-15&end=2025-07-01', "'start' must be before 'end'"],
    ['?range=custom&start=2025-07-01&end=2025-07-01', "'start' must be before 'end'"],
    ['?range=custom&start=2024-01-01&end=2025-07-01', 'at most one year'],
  ])('%s → 400 Validation error naming the problem', async (query, message) => {
    const res = await call(`/api/dashboard/${query}`, { token: admin.accessToken })
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body).toEqual({ error: 'Validation error', message: expect.stringContaining(message), timestamp: expect.any(String) })
  })

  test('without a token → 401; the path works without the trailing slash', async () => {
    expect((await call('/api/dashboard/')).status).toBe(401)
    expect((await call('/api/dashboard', { token: admin.accessToken })).status).toBe(200)
  })
})

describe('GET /api/dashboard/health/', () => {
  test('public; counts logged requests in all and in the last 24 hours', async () => {
    await settle(rt)
    const logged = (await logRows(rt)).length
    for (const path of ['/api/dashboard/health/', '/api/dashboard/health']) {
      const res = await call(path)
      expect(res.status).toBe(200)
      const body = await res.json()
      expect(body).toEqual({
        status: 'healthy',
        timestamp: expect.stringMatching(isoSecond),
        database: { connected: true, totalLogs: expect.any(Number), recentLogs: expect.any(Number) },
      })
      expect(body.database.totalLogs).toBeGreaterThanOrEqual(logged)
      expect(body.database.recentLogs).toBe(body.database.totalLogs)
    }
  })

  test('a database that does not answer → 503 unhealthy, without internals', async () => {
    const other = await testApp()
    await other.rt.store.close()
    const res = await other.call('/api/dashboard/health/')
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({
      status: 'unhealthy',
      timestamp: expect.any(String),
      database: { connected: false, totalLogs: 0, recentLogs: 0 },
    })
  })
})
