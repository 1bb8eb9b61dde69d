// The request log: every /api and /v1 request is logged by the telemetry plugin, with what
// its handler knew (model, tokens, cost) and what the plugin sees (status, address, country).
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../src/config'
import { startRuntime } from '../src/runtime'
import { TEST_SECRET, testApp } from './support/app'
import { withFakeChat } from './support/fake-chat'
import { startFakeOllama } from './support/fake-ollama'
import { sessionTotals } from './support/accounts'
import { logRows, settle } from './support/log'
import { countRows, refuseInserts } from './support/tables'
import { seedUser } from './support/users'

const prices = { 'priced-model': { input: 2, output: 8 }, 'glob-*': { input: 1, output: 1 }, 'glob-special': { input: 10, output: 0 } }
const { rt, app, call, close } = await testApp({ MODEL_PRICES: JSON.stringify(prices), LOG_FLUSH_MS: '50' })
withFakeChat(app, rt)
afterAll(close)

const user = await seedUser(rt)

const complete = (token: string, json: object) => call('/v1/test/completions', { method: 'POST', token, json })
const lastRow = async (path: string) => {
  await settle(rt)
  return (await logRows(rt, (row) => row.path === path)).at(-1)!
}

describe('what is logged', () => {
  test("a plain request: method, the route's pattern (never the query), status, latency, request id, user agent", async () => {
    const res = await call('/api/auth/health/?token=secret-value', { headers: { 'user-agent': 'probe/1.0' } })
    const row = await lastRow('/api/auth/health')
    expect(row).toMatchObject({
      method: 'GET',
      status: 200,
      outcome: 'ok',
      requestId: res.headers.get('x-request-id'),
      userAgent: 'probe/1.0',
      userId: null,
      errorType: null,
    })
    expect(row.latencyMs).toBeGreaterThan(0)
    expect(JSON.stringify(await logRows(rt))).not.toContain('secret-value')
  })

  test.each([
    ['an unknown /api route', '/api/no-such-thing/', '/api/no-such-thing', 404, 'not_found'],
    ['an unknown /v1 route', '/v1/no-such-thing', '/v1/no-such-thing', 404, 'not_found'],
    ['a guarded route without a token', '/api/dashboard/', '/api/dashboard', 401, 'missing_token'],
  ])('%s is logged as a client error', async (_, path, stored, status, errorType) => {
    await call(path)
    expect(await lastRow(stored)).toMatchObject({ status, outcome: 'client_error', errorType })
  })

  test("ids stay out of the path (the route's pattern is kept); an unknown path is cut to 256 characters", async () => {
    const owner = await seedUser(rt)
    await call('/api/keys/0192-some-key-id/', { method: 'DELETE', token: owner.accessToken })
    expect(await lastRow('/api/keys/:id')).toMatchObject({ method: 'DELETE', status: 404, userId: owner.userId })
    const long = `/api/${'x'.repeat(16_000)}`
    await call(long)
    expect(await lastRow(long.slice(0, 256))).toMatchObject({ status: 404 })
    expect(await logRows(rt, (row) => row.path.length > 256)).toHaveLength(0)
  })

  test('a wrong method (405), malformed JSON (400) and an oversized body (413) are logged with their status', async () => {
    await call('/api/auth/health/', { method: 'DELETE' })
    expect(await lastRow('/api/auth/health')).toMatchObject({ method: 'DELETE', status: 405, outcome: 'client_error', errorType: 'method_not_allowed' })
    await call('/api/feedback/', { method: 'POST', token: user.accessToken, body: '{"x": ', headers: { 'content-type': 'application/json' } })
    expect(await lastRow('/api/feedback')).toMatchObject({ status: 400, outcome: 'client_error' })
    await call('/api/feedback/', { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) })
    expect(await lastRow('/api/feedback')).toMatchObject({ status: 413, outcome: 'client_error', errorType: 'payload_too_large' })
  })

  test('CORS preflights and paths outside /api and /v1 are not logged', async () => {
    const before = (await logRows(rt)).length
    await call('/api/auth/health/', {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'GET' },
    })
    await call('/swagger/json')
    await settle(rt)
    expect((await logRows(rt)).length).toBe(before)
  })

  test('a completion: user, API key, model, tokens, cost from MODEL_PRICES, completion id', async () => {
    const res = await complete(user.apiKey, { model: 'priced-model', promptTokens: 1000, completionTokens: 500 })
    const { id } = await res.json()
    const row = await lastRow('/v1/test/completions')
    expect(row).toMatchObject({
      userId: user.userId,
      apiKeyId: user.apiKeyId,
      sessionId: null,
      model: 'priced-model',
      upstream: 'http://fake-ollama',
      completionId: id,
      promptTokens: 1000,
      completionTokens: 500,
      totalTokens: 1500,
      outcome: 'ok',
    })
    expect(row.cost).toBeCloseTo((1000 * 2 + 500 * 8) / 1e6, 12)
  })

  test('cost: an exact name beats a glob, the longest glob wins, an unpriced model costs 0', async () => {
    for (const [model, expected] of [
      ['glob-special', (1000 * 10) / 1e6],
      ['glob-anything', (1000 + 1000) / 1e6],
      ['local-llama', 0],
    ] as const) {
      await complete(user.accessToken, { model, promptTokens: 1000, completionTokens: 1000 })
      expect((await lastRow('/v1/test/completions')).cost).toBeCloseTo(expected, 12)
    }
  })

  test("an upstream failure keeps the handler's outcome and error type", async () => {
    const res = await complete(user.accessToken, { model: 'priced-model', promptTokens: 1, completionTokens: 1, fail: 503 })
    expect(res.status).toBe(503)
    expect(await lastRow('/v1/test/completions')).toMatchObject({
      status: 503,
      outcome: 'upstream_error',
      errorType: 'upstream_unavailable',
      userId: user.userId,
    })
  })

  test("a signed-in session accumulates its requests, tokens, cost and last-seen time", async () => {
    const session = await seedUser(rt)
    const before = Date.now()
    for (let i = 0; i < 3; i++)
      await complete(session.accessToken, { model: 'priced-model', promptTokens: 100, completionTokens: 50 })
    await settle(rt)
    const row = await sessionTotals(rt, session.sessionId)
    expect(row.requests).toBe(3)
    expect(row.tokens).toBe(450)
    expect(row.cost).toBeCloseTo((3 * (100 * 2 + 50 * 8)) / 1e6, 12)
    expect(row.lastSeenAt).toBeGreaterThanOrEqual(before - 5)
    expect(await logRows(rt, (row) => row.sessionId === session.sessionId)).toHaveLength(3)
  })
})

describe('streams', () => {
  const startStream = (chunks: number, delayMs: number) =>
    call('/v1/test/stream', { method: 'POST', token: user.accessToken, json: { model: 'priced-model', promptTokens: 10, chunks, delayMs } })

  test('a stream is logged when it ends, with its final tokens, time to first token and duration', async () => {
    const res = await startStream(5, 20)
    const reader = res.body!.getReader()
    await reader.read()
    await settle(rt)
    const id = res.headers.get('x-request-id')!
    expect(await logRows(rt, (row) => row.requestId === id)).toHaveLength(0)
    while (!(await reader.read()).done);
    await settle(rt)
    const [row] = await logRows(rt, (row) => row.requestId === id)
    expect(row).toMatchObject({ status: 200, outcome: 'ok', promptTokens: 10, completionTokens: 5, model: 'priced-model' })
    expect(row!.ttftMs).toBeGreaterThanOrEqual(15)
    expect(row!.latencyMs).toBeGreaterThanOrEqual(95)
    expect(row!.cost).toBeCloseTo((10 * 2 + 5 * 8) / 1e6, 12)
  })

  test('requests answered at once are logged with the peer address too (real socket)', async () => {
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (request) => app.fetch(request) })
    ;(app as unknown as { server: typeof server }).server = server
    try {
      const base = `http://127.0.0.1:${server.port}`
      const ids = [
        (await fetch(`${base}/api/auth/health/`)).headers.get('x-request-id'),
        (await fetch(`${base}/api/auth/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"nobody@example.com","password":"wrong-password"}' })).headers.get('x-request-id'),
        (await fetch(`${base}/api/no-such-thing/`)).headers.get('x-request-id'),
      ]
      await settle(rt)
      for (const id of ids) expect((await logRows(rt, (row) => row.requestId === id!)).map((row) => row.ip)).toEqual(['127.0.0.1'])
    } finally {
      server.stop(true)
    }
  })

  test('a client that goes away mid-stream is logged as cancelled, with the tokens sent so far (real socket)', async () => {
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (request) => app.fetch(request) })
    ;(app as unknown as { server: typeof server }).server = server
    try {
      const abort = new AbortController()
      const res = await fetch(`http://127.0.0.1:${server.port}/v1/test/stream`, {
        method: 'POST',
        signal: abort.signal,
        headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'priced-model', promptTokens: 10, chunks: 100, delayMs: 20 }),
      })
      const id = res.headers.get('x-request-id')!
      const reader = res.body!.getReader()
      await reader.read()
      await reader.read()
      abort.abort()
      let rows = await logRows(rt, (row) => row.requestId === id)
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        await Bun.sleep(20)
        await settle(rt)
        rows = await logRows(rt, (row) => row.requestId === id)
      }
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({ status: 200, outcome: 'cancelled', errorType: 'cancelled', ip: '127.0.0.1' })
      expect(rows[0]!.completionTokens).toBeGreaterThanOrEqual(1)
      expect(rows[0]!.completionTokens).toBeLessThan(100)
    } finally {
      server.stop(true)
    }
  })
})

describe('shutdown', () => {
  test('a stream still running when the runtime closes is logged once, as cancelled, even if it ends right after', async () => {
    const fake = await startFakeOllama({ chunks: 50, chunkDelayMs: 10 })
    const folder = mkdtempSync(join(tmpdir(), 'studio-telemetry-'))
    const file = join(folder, 'studio.db')
    const other = await testApp({ DATABASE_URL: `sqlite://${file}`, LOG_FLUSH_MS: '60000', OLLAMA_BASE_URL: fake.url })
    try {
      const someone = await seedUser(other.rt)
      const res = await other.call('/v1/chat/completions', {
        method: 'POST',
        token: someone.apiKey,
        json: { model: 'llama3.2', stream: true, messages: [{ role: 'user', content: 'Hi' }] },
      })
      const reader = res.body!.getReader()
      await reader.read()
      await new Promise((resolve) => setImmediate(resolve)) // the logging hook has seen the response
      const closing = other.rt.close()
      for (let i = 0; i < 20; i++) await Promise.resolve()
      await reader.cancel()
      await closing
      // What the closed runtime left in the database, read by a new one.
      const reopened = await startRuntime(loadConfig({ DATABASE_URL: `sqlite://${file}`, SECRET_KEY: TEST_SECRET }))
      try {
        const rows = await logRows(reopened)
        expect(rows.filter((row) => row.path === '/v1/chat/completions').map((row) => row.outcome)).toEqual(['cancelled'])
        expect((await reopened.store.dashboard.logCounts(0)).recent).toBe(rows.length)
      } finally {
        await reopened.close()
      }
    } finally {
      fake.stop()
      rmSync(folder, { recursive: true, force: true })
    }
  })
})

describe('country', () => {
  const countryFor = async (env: Record<string, string>, headers: Record<string, string>) => {
    const other = await testApp(env)
    await other.call('/api/auth/health/', { headers })
    await settle(other.rt)
    const [row] = await logRows(other.rt)
    await other.close()
    return row!.country
  }

  test('with TRUST_PROXY, a proxy country header is believed and shown as "Name (CC)"', async () => {
    expect(await countryFor({ TRUST_PROXY: 'true' }, { 'cf-ipcountry': 'DE' })).toBe('Germany (DE)')
    expect(await countryFor({ TRUST_PROXY: 'true' }, { 'x-country-code': 'id' })).toBe('Indonesia (ID)')
    expect(await countryFor({ TRUST_PROXY: 'true' }, { 'cloudfront-viewer-country': 'US' })).toBe('United States (US)')
  })

  test('with TRUST_PROXY, X-Forwarded-For is looked up in the embedded GeoIP table (IPv4 and IPv6)', async () => {
    expect(await countryFor({ TRUST_PROXY: '2' }, { 'x-forwarded-for': '8.8.8.8, 10.0.0.1' })).toBe('United States (US)')
    expect(await countryFor({ TRUST_PROXY: 'true' }, { 'x-forwarded-for': '81.2.69.160, 8.8.8.8' })).toBe('United States (US)')
    expect(await countryFor({ TRUST_PROXY: 'true' }, { 'x-forwarded-for': '81.2.69.160' })).toBe('United Kingdom (GB)')
    expect(await countryFor({ TRUST_PROXY: 'true' }, { 'x-forwarded-for': '2a00:1450:4001:80b::200e' })).toBe('Germany (DE)')
  })

  test('unknown stays unknown: private addresses, Cloudflare XX/T1, garbage', async () => {
    expect(await countryFor({ TRUST_PROXY: 'true' }, { 'x-forwarded-for': '192.168.1.20' })).toBeNull()
    expect(await countryFor({ TRUST_PROXY: 'true' }, { 'cf-ipcountry': 'XX' })).toBeNull()
    expect(await countryFor({ TRUST_PROXY: 'true' }, { 'cf-ipcountry': 'T1' })).toBeNull()
    expect(await countryFor({ TRUST_PROXY: 'true' }, { 'x-forwarded-for': 'not-an-address' })).toBeNull()
  })

  test('without TRUST_PROXY, proxy headers are ignored', async () => {
    expect(await countryFor({}, { 'cf-ipcountry': 'DE', 'x-forwarded-for': '8.8.8.8' })).toBeNull()
  })
})

describe('the batched writer', () => {
  test('rows wait for the batch window, then are written together', async () => {
    const other = await testApp({ LOG_FLUSH_MS: '200', LOG_BATCH_SIZE: '1000' })
    for (let i = 0; i < 5; i++) await other.call('/api/auth/health/')
    await new Promise((resolve) => setImmediate(resolve))
    expect(await logRows(other.rt)).toHaveLength(0)
    await Bun.sleep(400)
    expect(await logRows(other.rt)).toHaveLength(5)
    await other.close()
  })

  test('a full batch is written at once, and closing the runtime writes the rest', async () => {
    const other = await testApp({ LOG_FLUSH_MS: '60000', LOG_BATCH_SIZE: '10' })
    await Promise.all(Array.from({ length: 25 }, () => other.call('/api/auth/health/')))
    // The two full batches are written at once (a database across a connection takes a few
    // milliseconds); the five rows left wait for LOG_FLUSH_MS, even those that came while a batch was written.
    for (let waited = 0; waited < 2000 && (await logRows(other.rt)).length < 20; waited += 10) await Bun.sleep(10)
    await Bun.sleep(50)
    expect(await logRows(other.rt)).toHaveLength(20)
    // The store closes last, after the runtime's closers: count the rows just before it does.
    let rows = 0
    const closeStore = other.rt.store.close
    other.rt.store.close = async () => {
      rows = await countRows(other.rt, 'request_logs')
      return closeStore()
    }
    await other.close()
    expect(rows).toBe(25)
  })

  test('a batch the database refuses is kept and written once it accepts again', async () => {
    const other = await testApp({ LOG_FLUSH_MS: '60000' })
    const accept = await refuseInserts(other.rt, 'request_logs', 'disk full')
    const errors: string[] = []
    const consoleError = console.error
    console.error = (...args: unknown[]) => void errors.push(args.join(' '))
    try {
      for (let i = 0; i < 3; i++) await other.call('/api/auth/health/')
      await settle(other.rt)
    } finally {
      console.error = consoleError
    }
    expect(errors.join('\n')).toContain('request log: writing 3 rows failed (disk full); will retry')
    expect(await logRows(other.rt)).toHaveLength(0)
    await accept()
    await other.call('/api/auth/health/')
    await settle(other.rt)
    expect(await logRows(other.rt)).toHaveLength(4)
    expect((await other.rt.store.dashboard.logCounts(0)).recent).toBe(4)
    await other.close()
  })
})

describe('MODEL_PRICES', () => {
  test('a JSON file or inline JSON', () => {
    const folder = mkdtempSync(join(tmpdir(), 'studio-prices-'))
    const file = join(folder, 'prices.json')
    writeFileSync(file, JSON.stringify({ 'gpt-4o*': { input: 2.5, output: 10 } }))
    expect(loadConfig({ MODEL_PRICES: file }).modelPrices).toEqual([{ pattern: 'gpt-4o*', input: 2.5, output: 10, image: 0 }])
    rmSync(folder, { recursive: true })
    expect(loadConfig({ MODEL_PRICES: '{"m": {"input": 0, "output": 1}}' }).modelPrices).toEqual([
      { pattern: 'm', input: 0, output: 1, image: 0 },
    ])
    // An image model: priced per image; both kinds of price on one model too.
    expect(loadConfig({ MODEL_PRICES: '{"sd-*": {"image": 0.02}, "x": {"input": 1, "output": 2, "image": 3}}' }).modelPrices).toEqual([
      { pattern: 'sd-*', input: 0, output: 0, image: 0.02 },
      { pattern: 'x', input: 1, output: 2, image: 3 },
    ])
    expect(loadConfig({}).modelPrices).toEqual([])
  })

  test.each([
    ['/no/such/prices.json', /MODEL_PRICES: .*cannot read the file/],
    ['{"m": ', /MODEL_PRICES: .*not valid JSON/],
    ['{"m": {"input": -1, "output": 1}}', /MODEL_PRICES: .*"m" has/],
    ['{"m": {"input": "1", "output": 1}}', /MODEL_PRICES: .*"m" has/],
    ['{"m": 3}', /MODEL_PRICES: .*"m" has 3/],
    ['{"m": {"input": 1}}', /MODEL_PRICES: .*"m" has/],
    ['{"m": {"image": -1}}', /MODEL_PRICES: .*"m" has/],
    ['{"m": {}}', /MODEL_PRICES: .*"m" has/],
  ])('%s stops start-up naming MODEL_PRICES', (value, message) => {
    expect(() => loadConfig({ MODEL_PRICES: value })).toThrow(ConfigError)
    expect(() => loadConfig({ MODEL_PRICES: value })).toThrow(message)
  })
})

describe('DEBUG', () => {
  test('prints an access-log line per request without query string or credentials', async () => {
    const lines: string[] = []
    const original = console.log
    console.log = (...args: unknown[]) => void lines.push(args.join(' '))
    const debug = await testApp({ DEBUG: 'true' })
    try {
      await debug.call('/api/auth/health/?secret=hunter2', { headers: { authorization: 'Bearer sk-studio-secret' } })
      await settle(debug.rt)
    } finally {
      console.log = original
      await debug.close()
    }
    expect(lines.some((line) => /^GET \/api\/auth\/health\/? 200 [\d.]+ms ok$/.test(line))).toBe(true)
    expect(lines.join('\n')).not.toContain('hunter2')
    expect(lines.join('\n')).not.toContain('sk-studio-secret')
  })
})
