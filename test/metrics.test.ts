// GET /metrics (issue 19): scrapes parsed as Prometheus reads them (test/support/prometheus.ts)
// before and after traffic this test sends, the differences checked against what the answers
// said (requests, tokens, refusals, cache lookups, log rows); the protection (METRICS_TOKEN,
// METRICS_PORT, off by default); labels that stay bounded whatever a client sends.
import { afterAll, describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../src/config'
import { testApp } from './support/app'
import { defaultModels, startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { logRows, settle } from './support/log'
import { freePort } from './support/process'
import { parseScrape, total, type Scrape } from './support/prometheus'
import { redisTestUrl, testPrefix } from './support/redis'
import { seedUser } from './support/users'

const TOKEN = 'metrics-token-0123456789abcdef'
const fake = await startFakeOllama()
// Nothing listens on port 1: a host there refuses connections (a freed port could be taken by a later listener).
const closedPort = 1
const { rt, call, close } = await testApp({
  OLLAMA_BASE_URL: `${fake.url},http://127.0.0.1:${closedPort}`,
  METRICS_TOKEN: TOKEN,
  RATE_LIMIT_CHAT: '0',
  RATE_LIMIT_EMBEDDINGS: '0',
})
const user = await seedUser(rt)
const closers: (() => unknown)[] = []
afterAll(async () => {
  for (const closer of closers) await closer()
  await close()
  fake.stop()
})

type Call = typeof call

async function scrape(of: Call = call): Promise<{ text: string; metrics: Scrape }> {
  // Elysia runs the hook that counts a request just after its response, from a setImmediate.
  await new Promise((resolve) => setImmediate(resolve))
  const res = await of('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  const text = await res.text()
  return { text, metrics: await parseScrape(text) }
}

const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hello there' }] }

async function chat(body: object, of: Call = call, token = user.apiKey) {
  const res = await of('/v1/chat/completions', { method: 'POST', token, json: { ...hello, ...body } })
  const text = await res.text()
  return { res, text }
}

/** The usage a streamed reply ends with (stream_options.include_usage), or a plain reply's. */
function usageOf(text: string): { prompt_tokens: number; completion_tokens: number } {
  if (!text.startsWith('data:')) return JSON.parse(text).usage
  const events = text.split('\n\n').filter((event) => event.startsWith('data: {'))
  return JSON.parse(events.at(-1)!.slice(6)).usage
}

describe('counts equal to the traffic sent', () => {
  test('N chats: requests by route and status, GenAI durations, token usage (summed as the replies reported), time to first token', async () => {
    const before = (await scrape()).metrics
    const usages = []
    for (let i = 0; i < 5; i++) {
      const { res, text } = await chat(i % 2 ? { stream: true, stream_options: { include_usage: true } } : {})
      expect(res.status).toBe(200)
      usages.push(usageOf(text))
    }
    const after = (await scrape()).metrics
    const delta = (name: string, labels: Record<string, string>, of: 'count' | 'sum' = 'count') => total(after, name, labels, of) - total(before, name, labels, of)
    const route = { http_route: '/v1/chat/completions', http_request_method: 'POST', http_response_status_code: '200' }
    expect(delta('http_server_request_duration_seconds', route)).toBe(5)
    const genAi = { gen_ai_operation_name: 'chat', api: 'chat', gen_ai_request_model: 'llama3.2', gen_ai_provider_name: 'ollama', server_address: fake.url, outcome: 'ok' }
    expect(delta('gen_ai_client_operation_duration_seconds', genAi)).toBe(5)
    expect(delta('gen_ai_server_time_to_first_token_seconds', genAi)).toBe(5)
    expect(delta('gen_ai_server_time_per_output_token_seconds', genAi)).toBe(5)
    const input = { ...genAi, gen_ai_token_type: 'input' }
    const output = { ...genAi, gen_ai_token_type: 'output' }
    expect(delta('gen_ai_client_token_usage', input)).toBe(5)
    expect(delta('gen_ai_client_token_usage', output)).toBe(5)
    expect(delta('gen_ai_client_token_usage', input, 'sum')).toBe(usages.reduce((sum, u) => sum + u.prompt_tokens, 0))
    expect(delta('gen_ai_client_token_usage', output, 'sum')).toBe(usages.reduce((sum, u) => sum + u.completion_tokens, 0))
  })

  test('every API is counted once under its operation: completions, embeddings, Messages, Responses', async () => {
    const before = (await scrape()).metrics
    const post = (path: string, json: object, headers: Record<string, string> = {}) => call(path, { method: 'POST', token: user.apiKey, json, headers })
    expect((await post('/v1/completions', { model: 'llama3.2', prompt: 'Once' })).status).toBe(200)
    expect((await post('/v1/completions', { model: 'llama3.2', prompt: 'Twice', stream: true }).then(async (r) => (await r.text(), r))).status).toBe(200)
    expect((await post('/v1/embeddings', { model: 'nomic-embed-text', input: ['a', 'b'] })).status).toBe(200)
    expect((await post('/v1/messages', { model: 'llama3.2', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] }, { 'anthropic-version': '2023-06-01' })).status).toBe(200)
    expect((await post('/v1/responses', { model: 'llama3.2', input: 'Hi', store: false })).status).toBe(200)
    const after = (await scrape()).metrics
    const delta = (labels: Record<string, string>) => total(after, 'gen_ai_client_operation_duration_seconds', labels) - total(before, 'gen_ai_client_operation_duration_seconds', labels)
    expect(delta({ api: 'completions', gen_ai_operation_name: 'text_completion', gen_ai_request_model: 'llama3.2', outcome: 'ok' })).toBe(2)
    expect(delta({ api: 'embeddings', gen_ai_operation_name: 'embeddings', gen_ai_request_model: 'nomic-embed-text', outcome: 'ok' })).toBe(1)
    expect(delta({ api: 'messages', gen_ai_operation_name: 'chat', outcome: 'ok' })).toBe(1)
    expect(delta({ api: 'responses', gen_ai_operation_name: 'chat', outcome: 'ok' })).toBe(1)
    // Embeddings use input tokens only.
    const embeddingTokens = (type: string) =>
      total(after, 'gen_ai_client_token_usage', { api: 'embeddings', gen_ai_token_type: type }) - total(before, 'gen_ai_client_token_usage', { api: 'embeddings', gen_ai_token_type: type })
    expect(embeddingTokens('input')).toBe(1)
    expect(embeddingTokens('output')).toBe(0)
  })

  test('the request log: rows written equal the rows in the database, nothing left queued, each batch timed', async () => {
    await chat({})
    await settle(rt)
    const { metrics } = await scrape()
    expect(total(metrics, 'ai_studio_log_rows_written_total')).toBe((await logRows(rt)).length)
    expect(total(metrics, 'ai_studio_log_queue_rows')).toBe(0)
    expect(total(metrics, 'ai_studio_log_flush_duration_seconds')).toBeGreaterThan(0)
    expect(total(metrics, 'ai_studio_log_write_failures_total')).toBe(0)
  })

  test("each upstream host's health, latency, requests in flight and models, read from the pool", async () => {
    const { metrics } = await scrape()
    const up = { server_address: fake.url, gen_ai_provider_name: 'ollama' }
    const down = { server_address: `http://127.0.0.1:${closedPort}`, gen_ai_provider_name: 'ollama' }
    expect(total(metrics, 'ai_studio_upstream_up', up)).toBe(1)
    expect(total(metrics, 'ai_studio_upstream_up', down)).toBe(0)
    expect(total(metrics, 'ai_studio_upstream_check_latency_seconds', up)).toBeGreaterThan(0)
    expect(total(metrics, 'ai_studio_upstream_check_latency_seconds', down)).toBe(0) // absent while down
    expect(total(metrics, 'ai_studio_upstream_requests_in_flight', up)).toBe(0)
    expect(total(metrics, 'ai_studio_upstream_models', up)).toBe(3)
    expect(total(metrics, 'ai_studio_db_probe_seconds')).toBeGreaterThan(0)
  })
})

describe('labels stay bounded', () => {
  test('an unknown model (chat, embeddings) and an unknown path never appear in a label: the path is "other"', async () => {
    const res = await call('/v1/chat/completions', { method: 'POST', token: user.apiKey, json: { ...hello, model: 'model-no-host-has-1234' } })
    // 503 here: a host is down, and might have it.
    expect(res.status).toBe(503)
    expect((await call('/v1/secret-path-5678/x')).status).toBe(404)
    expect((await call('/v1/embeddings', { method: 'POST', token: user.apiKey, json: { model: 'embedder-no-host-has-4321', input: 'x' } })).status).toBe(503)
    const { text, metrics } = await scrape()
    expect(text).not.toContain('embedder-no-host-has-4321')
    expect(text).not.toContain('model-no-host-has-1234')
    expect(text).not.toContain('secret-path-5678')
    expect(total(metrics, 'http_server_request_duration_seconds', { http_route: 'other', http_response_status_code: '404' })).toBeGreaterThanOrEqual(1)
  })

  test('a model no upstream of this replica lists (answered from the shared cache) is labelled "other"', async () => {
    const shared = { METRICS_TOKEN: TOKEN, RATE_LIMIT_CHAT: '0', CACHE_TTL_SECONDS: '60', CACHE_SCOPE: 'global', REDIS_URL: redisTestUrl, REDIS_PREFIX: testPrefix() }
    const withLlava = await testApp({ ...shared, OLLAMA_BASE_URL: fake.url })
    const own = await startFakeOllama({ models: defaultModels.filter((model) => model.name !== 'llava:7b') })
    const without = await testApp({ ...shared, OLLAMA_BASE_URL: own.url })
    closers.push(withLlava.close, without.close, () => own.stop())
    const question = { model: 'llava:7b', messages: [{ role: 'user', content: 'Same question' }] }
    expect((await chat(question, withLlava.call, (await seedUser(withLlava.rt)).apiKey)).res.headers.get('x-cache')).toBe('MISS')
    expect((await chat(question, without.call, (await seedUser(without.rt)).apiKey)).res.headers.get('x-cache')).toBe('HIT')
    const { text, metrics } = await scrape(without.call)
    expect(text).not.toContain('llava')
    expect(total(metrics, 'gen_ai_client_operation_duration_seconds', { gen_ai_request_model: 'other', server_address: 'cache' })).toBe(1)
  })

  test('a method no route knows is _OTHER', async () => {
    await call('/v1/models', { method: 'PROPFIND' })
    const { metrics, text } = await scrape()
    expect(text).not.toContain('PROPFIND')
    expect(total(metrics, 'http_server_request_duration_seconds', { http_request_method: '_OTHER' })).toBe(1)
  })
})

describe('refusals, threats, cache', () => {
  test('a 429 from the rate limit is counted by reason and route, with the rate_limit threat it records', async () => {
    const limited = await testApp({ OLLAMA_BASE_URL: fake.url, METRICS_TOKEN: TOKEN, RATE_LIMIT_CHAT: '2' })
    closers.push(limited.close)
    const someone = await seedUser(limited.rt)
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await chat({}, limited.call, someone.apiKey)).res.status)
    expect(statuses).toEqual([200, 200, 429])
    const { metrics } = await scrape(limited.call)
    expect(total(metrics, 'ai_studio_limit_refusals_total', { reason: 'rate_limit_exceeded', http_route: '/v1/chat/completions' })).toBe(1)
    expect(total(metrics, 'ai_studio_limit_refusals_total')).toBe(1)
    expect(total(metrics, 'ai_studio_threats_total', { type: 'rate_limit' })).toBe(1)
  })

  test('a 429 from the anonymous limit, refused before routing, is counted under http_route="other"', async () => {
    const anonymous = await testApp({ METRICS_TOKEN: TOKEN, RATE_LIMIT_ANONYMOUS: '1' })
    closers.push(anonymous.close)
    const server = listen(anonymous.app)
    closers.push(() => server.stop())
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${server.url}/v1/models`)).status)
    expect(statuses).toEqual([401, 429, 429])
    const { metrics } = await scrape(anonymous.call)
    expect(total(metrics, 'ai_studio_limit_refusals_total', { reason: 'rate_limit_exceeded', http_route: 'other' })).toBe(2)
  })

  test('a 429 from the concurrency cap is counted as too_many_concurrent_requests', async () => {
    const capped = await testApp({ OLLAMA_BASE_URL: fake.url, METRICS_TOKEN: TOKEN, RATE_LIMIT_CHAT: '0', MAX_CONCURRENT_REQUESTS: '1' })
    closers.push(capped.close)
    const server = listen(capped.app)
    closers.push(() => server.stop())
    const someone = await seedUser(capped.rt)
    fake.set({ chunks: 100, chunkDelayMs: 20 })
    const leave = new AbortController()
    const send = () =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${someone.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...hello, stream: true }),
        signal: leave.signal,
      })
    const held = await send()
    await held.body!.getReader().read()
    const refused = await send()
    expect(refused.status).toBe(429)
    leave.abort()
    fake.reset()
    const { metrics } = await scrape(capped.call)
    expect(total(metrics, 'ai_studio_limit_refusals_total', { reason: 'too_many_concurrent_requests', http_route: '/v1/chat/completions' })).toBe(1)
  })

  test('cache hits and misses', async () => {
    const cached = await testApp({ OLLAMA_BASE_URL: fake.url, METRICS_TOKEN: TOKEN, RATE_LIMIT_CHAT: '0', CACHE_TTL_SECONDS: '60' })
    closers.push(cached.close)
    const someone = await seedUser(cached.rt)
    const headers = []
    for (let i = 0; i < 3; i++) headers.push((await chat({}, cached.call, someone.apiKey)).res.headers.get('x-cache'))
    expect(headers).toEqual(['MISS', 'HIT', 'HIT'])
    const { metrics } = await scrape(cached.call)
    expect(total(metrics, 'ai_studio_cache_lookups_total', { result: 'hit' })).toBe(2)
    expect(total(metrics, 'ai_studio_cache_lookups_total', { result: 'miss' })).toBe(1)
    // A cached answer is an operation of its own "upstream", with no tokens used.
    expect(total(metrics, 'gen_ai_client_operation_duration_seconds', { server_address: 'cache' })).toBe(2)
    expect(total(metrics, 'gen_ai_client_token_usage', { server_address: 'cache' })).toBe(0)
  })
})

describe('protection', () => {
  test.each([
    ['no credentials', {}],
    ['a wrong token of the same length', { authorization: `Bearer ${TOKEN.slice(0, -1)}X` }],
    ['a shorter token', { authorization: 'Bearer metrics' }],
    ['the token under another scheme', { authorization: `Basic ${TOKEN}` }],
    ['the token with more after it', { authorization: `Bearer ${TOKEN} ${TOKEN}` }],
  ])('%s: 401 asking for a Bearer token, and no metric in the body', async (_, headers) => {
    const res = await call('/metrics', { headers })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toStartWith('Bearer')
    const body = await res.text()
    expect(body).not.toContain('gen_ai')
    expect(body).not.toContain(TOKEN)
  })

  test('off unless METRICS_TOKEN or METRICS_PORT is set: /metrics is a 404', async () => {
    const off = await testApp({})
    closers.push(off.close)
    expect((await off.call('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404)
    expect(off.rt.config.metrics.enabled).toBe(false)
  })

  test('with METRICS_PORT the main port does not serve /metrics (the listener of its own does: metrics-process.test.ts)', async () => {
    const port = await freePort()
    const separate = await testApp({ METRICS_PORT: String(port), METRICS_TOKEN: TOKEN })
    closers.push(separate.close)
    expect((await separate.call('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404)
  })
})

describe('settings', () => {
  test.each([
    [{ METRICS_TOKEN: 'short-secret' }, 'METRICS_TOKEN'],
    [{ METRICS_TOKEN: 'a long enough token with spaces' }, 'METRICS_TOKEN'],
    [{ METRICS_PORT: 'nine' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '8000' }, 'METRICS_PORT'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
  ] as [Record<string, string>, string][])('%o is refused, naming the variable (a token is never repeated)', (env, variable) => {
    let error: unknown
    try {
      loadConfig(env)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toStartWith(variable)
    if (env.METRICS_TOKEN) expect((error as Error).message).not.toContain(env.METRICS_TOKEN)
  })

  test('defaults: metrics off, text logs at info', () => {
    const config = loadConfig({})
    expect(config.metrics).toEqual({ enabled: false, token: undefined, port: undefined, host: '127.0.0.1' })
    expect([config.logFormat, config.logLevel]).toEqual(['text', 'info'])
  })
})
