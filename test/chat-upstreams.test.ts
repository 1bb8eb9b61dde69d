// Several Ollama hosts behind one gateway: routing by model, least busy first, failover when
// a host is down or fails before its first byte, passive marking, recovery, and /v1/health.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { defaultModels, startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { seedUser } from './support/users'

const a = await startFakeOllama()
const b = await startFakeOllama({ models: [...defaultModels, { name: 'qwen3:8b', family: 'qwen3' }] })
const { rt, app, call, close } = await testApp({
  OLLAMA_BASE_URL: `${a.url}, ${b.url}`,
  UPSTREAM_CHECK_INTERVAL_MS: '100',
  UPSTREAM_TIMEOUT_MS: '10000',
  RATE_LIMIT_MODELS: '0', // the tests poll /v1/health
})
const user = await seedUser(rt)
afterAll(async () => {
  await close()
  a.stop()
  b.stop()
})
beforeEach(() => {
  a.reset()
  b.reset()
})

const body = (model = 'llama3.2', stream = false) => ({ model, stream, messages: [{ role: 'user', content: 'Hi' }] })
const complete = (model?: string) => call('/v1/chat/completions', { method: 'POST', token: user.apiKey, json: body(model) })
const health = async () => {
  const res = await call('/v1/health', { token: user.apiKey })
  return { status: res.status, body: await res.json() }
}
const waitUntil = async (condition: () => boolean | Promise<boolean>, timeoutMs = 2000) => {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); await Bun.sleep(20))
    if (Date.now() > deadline) throw new Error('condition not met in time')
}

/** Starts a streaming chat that `b` holds open (it never answers) until `release()` aborts it. */
async function occupyB() {
  a.down()
  await waitUntil(async () => (await health()).body.upstreams[0].reachable === false)
  b.set({ hang: true })
  const controller = new AbortController()
  const text = JSON.stringify(body('llama3.2', true))
  const pending = app.handle(
    new Request('http://localhost/v1/chat/completions', {
      method: 'POST',
      body: text,
      signal: controller.signal,
      headers: { 'content-type': 'application/json', 'content-length': String(text.length), authorization: `Bearer ${user.apiKey}` },
    }),
  )
  await waitUntil(() => b.chats.length === 1)
  b.set({ hang: false })
  a.up()
  await waitUntil(async () => (await health()).body.upstreams[0].reachable === true)
  return {
    release: async () => {
      controller.abort()
      await pending.catch(() => undefined)
    },
  }
}

describe('several upstreams', () => {
  test('a model that only one host has is served by that host', async () => {
    for (let i = 0; i < 3; i++) expect((await complete('qwen3:8b')).status).toBe(200)
    expect(a.chats).toHaveLength(0)
    expect(b.chats).toHaveLength(3)
  })

  test('the least busy host that has the model is chosen', async () => {
    const busy = await occupyB()
    expect((await complete()).status).toBe(200)
    expect(a.chats).toHaveLength(1)
    expect(b.chats).toHaveLength(1) // only the held request
    await busy.release()
  })

  test('a host that fails before the first byte is retried on another', async () => {
    const busy = await occupyB()
    a.set({ chatStatus: 500 })
    const res = await complete()
    expect(res.status).toBe(200)
    expect(a.chats).toHaveLength(1) // tried first: it was the less busy
    expect(b.chats).toHaveLength(2) // the held request, then the retry
    await busy.release()
  })

  test('a refusal from a proxy in front of a host (401) is retried on another host', async () => {
    const busy = await occupyB()
    a.set({ chatStatus: 401 })
    const res = await complete()
    expect(res.status).toBe(200)
    expect(a.chats).toHaveLength(1)
    expect(b.chats).toHaveLength(2)
    await busy.release()
  })

  test('concurrent requests spread over the hosts: each is counted on its host before the next one chooses', async () => {
    a.set({ hang: true })
    b.set({ hang: true })
    const controllers = Array.from({ length: 6 }, () => new AbortController())
    const pending = controllers.map((controller) => {
      const text = JSON.stringify(body('llama3.2', true))
      return app.handle(
        new Request('http://localhost/v1/chat/completions', {
          method: 'POST',
          body: text,
          signal: controller.signal,
          headers: { 'content-type': 'application/json', 'content-length': String(text.length), authorization: `Bearer ${user.apiKey}` },
        }),
      )
    })
    await waitUntil(() => a.chats.length + b.chats.length === 6)
    expect([a.chats.length, b.chats.length]).toEqual([3, 3])
    for (const controller of controllers) controller.abort()
    await Promise.all(pending.map((response) => response.catch(() => undefined)))
    await waitUntil(() => a.active + b.active === 0)
  })

  test('a host silent before its first message spends the timeout (504, once for all hosts) and is marked down; the next request goes elsewhere', async () => {
    // b answers its checks slowly, so a (faster) is chosen first while both are idle.
    b.set({ versionDelayMs: 50 })
    const quick = await testApp({ OLLAMA_BASE_URL: `${a.url},${b.url}`, UPSTREAM_CHECK_INTERVAL_MS: '600000', UPSTREAM_TIMEOUT_MS: '300' })
    const someone = await seedUser(quick.rt)
    const send = () => quick.call('/v1/chat/completions', { method: 'POST', token: someone.apiKey, json: body() })
    a.set({ hang: true })
    const started = performance.now()
    const first = await send()
    expect(first.status).toBe(504)
    expect(performance.now() - started).toBeLessThan(2 * 300) // once the timeout (and a watchdog sweep), not once per host
    expect([a.chats.length, b.chats.length]).toEqual([1, 0])
    await waitUntil(() => a.aborted.length === 1)
    // Until a check says otherwise (this app's background check is off), the stuck host is not chosen first.
    expect((await send()).status).toBe(200)
    expect([a.chats.length, b.chats.length]).toEqual([1, 1])
    await quick.close()
  })

  test('the timeout is shared: a host that gets only what an earlier one left is not blamed for running out', async () => {
    b.set({ versionDelayMs: 50 }) // a is tried first
    const quick = await testApp({ OLLAMA_BASE_URL: `${a.url},${b.url}`, UPSTREAM_CHECK_INTERVAL_MS: '600000', UPSTREAM_TIMEOUT_MS: '400' })
    const someone = await seedUser(quick.rt)
    a.set({ firstChunkDelayMs: 300, failAfter: 0, failWith: 'error' }) // fails after 300 ms
    b.set({ firstChunkDelayMs: 200 }) // would answer after 200 ms: 100 ms too late
    const res = await quick.call('/v1/chat/completions', { method: 'POST', token: someone.apiKey, json: body() })
    expect(res.status).toBe(504)
    expect((await res.json()).error.message).toContain('No Ollama host sent anything within the upstream timeout')
    const report = await (await quick.call('/v1/health', { token: someone.apiKey })).json()
    expect(report.upstreams.map((upstream: { reachable: boolean }) => upstream.reachable)).toEqual([true, true])
    await quick.close()
  })

  test('a host that went silent stays out for one timeout even though its checks pass (Ollama answers while its runner is stuck)', async () => {
    const solo = await testApp({ OLLAMA_BASE_URL: a.url, UPSTREAM_CHECK_INTERVAL_MS: '600000', UPSTREAM_TIMEOUT_MS: '300' })
    const someone = await seedUser(solo.rt)
    const upstream = async () => (await (await solo.call('/v1/health', { token: someone.apiKey })).json()).upstreams[0]
    a.set({ hang: true })
    expect((await solo.call('/v1/chat/completions', { method: 'POST', token: someone.apiKey, json: body() })).status).toBe(504)
    expect(await upstream()).toMatchObject({ reachable: false, error: 'went silent in a chat for longer than the upstream timeout' })
    await Bun.sleep(350)
    expect(await upstream()).toMatchObject({ reachable: true, error: null })
    await solo.close()
  })

  test('a host that drops the connection before answering is retried elsewhere, and checked again at once', async () => {
    const quick = await testApp({ OLLAMA_BASE_URL: `${a.url},${b.url}`, UPSTREAM_CHECK_INTERVAL_MS: '600000' })
    const someone = await seedUser(quick.rt)
    a.set({ failAfter: 0, failWith: 'drop' })
    b.set({ failAfter: 0, failWith: 'drop' })
    const res = await quick.call('/v1/chat/completions', { method: 'POST', token: someone.apiKey, json: body() })
    expect(res.status).toBe(503)
    expect([a.chats.length, b.chats.length]).toEqual([1, 1])
    // The hosts themselves are fine: their checks bring them back without waiting for the next round.
    await waitUntil(async () => (await quick.call('/v1/models', { token: someone.apiKey })).status === 200)
    await quick.close()
  })

  test('a host marked down by a timeout is up again as soon as it serves a chat: /v1/models lists it at once', async () => {
    const solo = await testApp({ OLLAMA_BASE_URL: a.url, UPSTREAM_CHECK_INTERVAL_MS: '600000', UPSTREAM_TIMEOUT_MS: '300' })
    const someone = await seedUser(solo.rt)
    const send = () => solo.call('/v1/chat/completions', { method: 'POST', token: someone.apiKey, json: body() })
    a.set({ hang: true })
    expect((await send()).status).toBe(504)
    expect((await solo.call('/v1/models', { token: someone.apiKey })).status).toBe(503)
    a.set({ hang: false })
    expect((await send()).status).toBe(200)
    const models = await solo.call('/v1/models', { token: someone.apiKey })
    expect(models.status).toBe(200)
    expect((await models.json()).data.map((model: { id: string }) => model.id)).toContain('llama3.2:latest')
    await solo.close()
  })

  test('a model that no reachable host lists, while a host is down → 503 (the host that is down may have it), not 404', async () => {
    a.down()
    await waitUntil(async () => (await health()).body.upstreams[0].reachable === false)
    const res = await complete('mistral:7b')
    expect(res.status).toBe(503)
    expect((await res.json()).error).toMatchObject({ code: 'upstream_unreachable', message: expect.stringContaining(a.url) })
    a.up()
    await waitUntil(async () => (await health()).body.status === 'healthy')
    expect((await complete('mistral:7b')).status).toBe(404)
  })

  test('a host that is down is skipped, marked unreachable, and reported by /v1/health', async () => {
    a.down()
    for (let i = 0; i < 4; i++) expect((await complete()).status).toBe(200)
    expect(b.chats).toHaveLength(4)
    const report = await health()
    expect(report.status).toBe(200)
    expect(report.body.status).toBe('degraded')
    expect(report.body.upstreams).toEqual([
      { url: a.url, reachable: false, latencyMs: null, version: null, models: [], inFlight: 0, checkedAt: expect.any(String), error: expect.stringContaining('ECONNREFUSED') },
      { url: b.url, reachable: true, latencyMs: expect.any(Number), version: '0.12.6', models: ['llama3.2:latest', 'llava:7b', 'nomic-embed-text:latest', 'qwen3:8b'], inFlight: 0, checkedAt: expect.any(String), error: null },
    ])
    a.up()
    await waitUntil(async () => (await health()).body.status === 'healthy')
  })

  test('a host that went down since the last check is marked at once by the request that found it down', async () => {
    const quiet = await testApp({ OLLAMA_BASE_URL: `${a.url},${b.url}`, UPSTREAM_CHECK_INTERVAL_MS: '600000' })
    const someone = await seedUser(quiet.rt)
    const send = (model: string, signal?: AbortSignal) => {
      const text = JSON.stringify(body(model, true))
      return quiet.app.handle(
        new Request('http://localhost/v1/chat/completions', {
          method: 'POST',
          body: text,
          signal,
          headers: { 'content-type': 'application/json', 'content-length': String(text.length), authorization: `Bearer ${someone.apiKey}` },
        }),
      )
    }
    // Keep b busy with a model only b has, so that a (less busy) is tried first.
    b.set({ hang: true })
    const held = new AbortController()
    const pending = send('qwen3:8b', held.signal)
    await waitUntil(() => b.chats.length === 1)
    b.set({ hang: false })
    // a goes down: its port now hangs up on every request (the other app's checks included).
    a.down()
    let chatAttempts = 0
    const broken = Bun.listen({
      hostname: '127.0.0.1',
      port: a.port,
      socket: {
        data(socket, data) {
          if (data.toString().startsWith('POST /api/chat')) chatAttempts++
          socket.end()
        },
      },
    })
    for (let i = 0; i < 3; i++) expect((await send('llama3.2')).status).toBe(200)
    expect(chatAttempts).toBe(1)
    expect(b.chats).toHaveLength(4)
    held.abort()
    await pending.catch(() => undefined)
    broken.stop(true)
    a.up()
    await quiet.close()
  })

  test('every host down → 503 naming each URL; /v1/health answers 503 unhealthy', async () => {
    a.down()
    b.down()
    const res = await complete()
    expect(res.status).toBe(503)
    const { error } = await res.json()
    expect(error.message).toContain(a.url)
    expect(error.message).toContain(b.url)
    const report = await health()
    expect(report.status).toBe(503)
    expect(report.body.status).toBe('unhealthy')
    a.up()
    b.up()
    await waitUntil(async () => (await health()).body.status === 'healthy')
  })

  test('/v1/models merges the hosts; /v1/models/{id} finds a model on any host', async () => {
    const res = await call('/v1/models', { token: user.apiKey })
    const list = await res.json()
    expect(list.object).toBe('list')
    expect(list.data.map((model: { id: string }) => model.id)).toEqual(['llama3.2:latest', 'llava:7b', 'nomic-embed-text:latest', 'qwen3:8b'])
    const qwen = await call('/v1/models/qwen3:8b/', { token: user.apiKey })
    expect(qwen.status).toBe(200)
    expect(await qwen.json()).toEqual({
      id: 'qwen3:8b',
      object: 'model',
      created: expect.any(Number),
      owned_by: 'library',
      displayLabel: 'qwen3 GGUF 1B Q4_0',
      contextLength: 8192,
      capabilities: ['completion'],
      metadata: { family: 'qwen3', format: 'GGUF', parameterSize: '1B', quantizationLevel: 'Q4_0' },
    })
    expect((await call('/v1/models/qwen3%3A8b', { token: user.apiKey })).status).toBe(200)
    const malformed = await call('/v1/models/%E0%A4%A', { token: user.apiKey })
    expect(malformed.status).toBe(400)
    expect((await malformed.json()).error.param).toBe('id')
    const missing = await call('/v1/models/nothing', { token: user.apiKey })
    expect(missing.status).toBe(404)
    expect((await missing.json()).error.code).toBe('model_not_found')
  })

  test('a host that lists a model without its tag serves it by either name', async () => {
    b.set({ models: [...defaultModels, { name: 'phi3' }] })
    await waitUntil(async () => (await health()).body.upstreams[1].models.includes('phi3'))
    expect((await complete('phi3')).status).toBe(200)
    expect((await complete('phi3:latest')).status).toBe(200)
    const ids = (await (await call('/v1/models', { token: user.apiKey })).json()).data.map((model: { id: string }) => model.id)
    expect(ids).toContain('phi3')
    expect((await call('/v1/models/phi3:latest', { token: user.apiKey })).status).toBe(200)
  })

  test('model details are asked once per model build, then cached', async () => {
    await call('/v1/models', { token: user.apiKey })
    const shows = () => [...a.requests, ...b.requests].filter((request) => request.path === '/api/show').length
    const before = shows()
    await call('/v1/models', { token: user.apiKey })
    await call('/v1/models/llava:7b', { token: user.apiKey })
    expect(shows()).toBe(before)
  })

  test('/v1/models needs credentials', async () => {
    for (const path of ['/v1/models', '/v1/models/llava:7b']) expect((await call(path)).status).toBe(401)
  })

  test('/v1/health is public: without credentials, reachability and latency only; bad credentials → 401', async () => {
    const res = await call('/v1/health')
    expect(res.status).toBe(200)
    const report = await res.json()
    expect(report.status).toBe('healthy')
    expect(report.upstreams).toHaveLength(2)
    for (const upstream of report.upstreams) expect(Object.keys(upstream).sort()).toEqual(['latencyMs', 'reachable'])
    expect(JSON.stringify(report)).not.toContain('127.0.0.1')
    expect((await call('/v1/health', { token: 'sk-studio-not-a-key' })).status).toBe(401)
    expect((await call('/v1/health', { headers: { authorization: 'Basic abc' } })).status).toBe(401)
  })

  test('signed-in /v1/health calls, which check every host afresh, count against the models rate limit', async () => {
    const limited = await testApp({ OLLAMA_BASE_URL: a.url, RATE_LIMIT_MODELS: '3' })
    const someone = await seedUser(limited.rt)
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await limited.call('/v1/health', { token: someone.apiKey })).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    // Anonymous probes (a load balancer, say) are not limited, even with an address to count by.
    const server = listen(limited.app)
    for (let i = 0; i < 5; i++) expect((await fetch(`${server.url}/v1/health`)).status).toBe(200)
    server.stop()
    await limited.close()
  })

  test('anonymous /v1/health calls check the hosts at most once a second', async () => {
    const quiet = await testApp({ OLLAMA_BASE_URL: a.url, UPSTREAM_CHECK_INTERVAL_MS: '600000' })
    const someone = await seedUser(quiet.rt)
    await quiet.call('/v1/health', { token: someone.apiKey }) // a fresh round
    const checks = () => a.requests.filter((request) => request.path === '/api/version').length
    const before = checks()
    for (let i = 0; i < 20; i++) await quiet.call('/v1/health')
    expect(checks() - before).toBeLessThanOrEqual(1)
    await quiet.call('/v1/health', { token: someone.apiKey }) // while a signed-in caller gets a fresh check
    expect(checks() - before).toBeGreaterThanOrEqual(1)
    await quiet.close()
  })
})
