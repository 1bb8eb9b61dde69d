// What one user can hold of the gateway: MAX_CONCURRENT_REQUESTS requests in progress (a slot
// comes back however the request ends: a client gone, an upstream failure, a timeout), a
// MAX_OUTPUT_TOKENS ceiling on num_predict, and MAX_REQUEST_SECONDS after which a stream ends
// with an error event and a reply with 504. Real sockets: clients go away mid-stream here.
import { afterAll, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { ConfigError, loadConfig } from '../src/config'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { logRows, settle } from './support/log'
import { chunksOf, parseSse } from './support/sse'
import { seedUser } from './support/users'

// Several tests go through a few upstream timeouts (400 ms each) and many streams: seconds, more
// on a loaded machine than bun's default 5 s allow.
setDefaultTimeout(20_000)

const fake = await startFakeOllama()
beforeEach(() => fake.reset())

const CAP = 2
const capped = await testApp({ OLLAMA_BASE_URL: fake.url, MAX_CONCURRENT_REQUESTS: String(CAP), RATE_LIMIT_CHAT: '0', UPSTREAM_TIMEOUT_MS: '400' })
const cappedServer = listen(capped.app)
const alice = await seedUser(capped.rt)
const bob = await seedUser(capped.rt)

afterAll(async () => {
  cappedServer.stop()
  await capped.close()
  fake.stop()
})

const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }] }

const waitUntil = async (condition: () => boolean, timeoutMs = 10_000) => {
  for (const deadline = Date.now() + timeoutMs; !condition(); await Bun.sleep(10))
    if (Date.now() > deadline) throw new Error('condition not met in time')
}

function post(url: string, token: string, body: object, signal?: AbortSignal) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
    // A connection of its own: a stream cancelled mid-way must not leave its socket for the next request.
    keepalive: false,
  })
}

/** A stream the fake keeps writing for minutes, open until `cancel()`; resolves once its first chunk arrived. */
async function openStream(token: string) {
  const controller = new AbortController()
  const res = await post(cappedServer.url, token, { ...hello, stream: true }, controller.signal)
  expect(res.status).toBe(200)
  const reader = res.body!.getReader()
  await reader.read()
  // The handle keeps the reader (and through it the response) reachable until `cancel()`: Bun's
  // fetch closes the connection of a response that is garbage-collected, which the gateway rightly
  // takes for a client gone, freeing the slot early. Whenever a GC ran between opening the held
  // streams and the request that should be refused, that request got the slot instead: a
  // non-streamed one then waited for the fake's endless reply, the test timed out, and the slots
  // it held turned the next tests' requests into 429s. (Seen after other files, whose garbage made
  // a collection likely; reproduced every time with a `Bun.gc(true)` here.)
  return { reader, cancel: () => controller.abort() }
}

/**
 * The cap is exactly CAP again: CAP streams get in, one more is refused. The streams are then
 * cancelled, and their slots are back by the time the fake Ollama sees its requests aborted
 * (the gateway releases a slot as it aborts the upstream request).
 */
async function expectCapFull(token: string) {
  fake.reset()
  fake.set({ chunks: 100_000, chunkDelayMs: 50 })
  const abortedBefore = fake.aborted.length
  const held = [] as { cancel: () => void }[]
  for (let i = 0; i < CAP; i++) held.push(await openStream(token))
  expect((await post(cappedServer.url, token, hello)).status).toBe(429)
  held.forEach((stream) => stream.cancel())
  await waitUntil(() => fake.aborted.length === abortedBefore + CAP)
  fake.reset()
}

describe('MAX_CONCURRENT_REQUESTS', () => {
  test('past the cap a user gets 429 with Retry-After in OpenAI’s envelope; other users are not affected', async () => {
    fake.set({ chunks: 100_000, chunkDelayMs: 50 })
    const held = [await openStream(alice.apiKey), await openStream(alice.apiKey)]
    for (const body of [hello, { ...hello, stream: true }]) {
      const refused = await post(cappedServer.url, alice.apiKey, body)
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(await refused.json()).toEqual({
        error: { message: expect.stringContaining(`at most ${CAP}`), type: 'rate_limit_exceeded', param: null, code: 'too_many_concurrent_requests' },
      })
    }
    const other = await openStream(bob.apiKey)
    held.forEach((stream) => stream.cancel())
    other.cancel()
    await waitUntil(() => fake.aborted.length === 3)
    // The refusals never reached Ollama.
    expect(fake.chats).toHaveLength(3)
    await settle(capped.rt)
    const refusals = await logRows(capped.rt, (row) => row.userId === alice.userId && row.status === 429)
    expect(refusals.map((row) => row.errorType)).toEqual(['too_many_concurrent_requests', 'too_many_concurrent_requests'])
  })

  test('a user’s tokens and API keys share one cap, like the rate limits', async () => {
    fake.set({ chunks: 100_000, chunkDelayMs: 50 })
    const held = [await openStream(alice.apiKey), await openStream(alice.accessToken)]
    expect((await post(cappedServer.url, alice.accessToken, hello)).status).toBe(429)
    expect((await post(cappedServer.url, alice.apiKey, hello)).status).toBe(429)
    held.forEach((stream) => stream.cancel())
    await waitUntil(() => fake.aborted.length === 2)
    await expectCapFull(alice.apiKey)
  })

  test('finished requests, one after another, never wait for a slot', async () => {
    for (let i = 0; i < CAP * 3; i++) {
      const res = await post(cappedServer.url, alice.apiKey, { ...hello, stream: i % 2 === 0 })
      expect(res.status).toBe(200)
      await res.text()
    }
    await expectCapFull(alice.apiKey)
  })

  test('cancelled streams give their slots back (before and after their first chunk)', async () => {
    fake.set({ chunks: 100_000, chunkDelayMs: 50 })
    for (let round = 0; round < 3; round++) {
      const held = [await openStream(alice.apiKey), await openStream(alice.apiKey)]
      held.forEach((stream) => stream.cancel())
      await waitUntil(() => fake.aborted.length === 2 * (round + 1))
    }
    // Gone while Ollama has not answered yet, streamed and not.
    fake.set({ hang: true })
    for (const stream of [true, false]) {
      const controller = new AbortController()
      const [chatsBefore, abortedBefore] = [fake.chats.length, fake.aborted.length]
      const pending = post(cappedServer.url, alice.apiKey, { ...hello, stream }, controller.signal).catch(() => undefined)
      await waitUntil(() => fake.chats.length === chatsBefore + 1)
      controller.abort()
      await pending
      await waitUntil(() => fake.aborted.length === abortedBefore + 1)
    }
    await expectCapFull(alice.apiKey)
  })

  test('upstream failures give their slots back: before the first byte, mid-stream, mid-reply, silence', async () => {
    fake.set({ chatStatus: 500 })
    for (const stream of [true, false, true, false]) expect((await post(cappedServer.url, alice.apiKey, { ...hello, stream })).status).toBe(502)
    fake.set({ chatStatus: undefined, failAfter: 1, failWith: 'drop' })
    for (let i = 0; i < CAP + 1; i++) {
      const text = await (await post(cappedServer.url, alice.apiKey, { ...hello, stream: true })).text()
      expect(text).toContain('event: error')
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
    }
    fake.set({ failWith: 'error' })
    for (let i = 0; i < CAP + 1; i++) expect((await post(cappedServer.url, alice.apiKey, hello)).status).toBe(502)
    // Silent after its first chunk for longer than UPSTREAM_TIMEOUT_MS.
    fake.set({ failAfter: undefined, stallAfter: 1 })
    for (let i = 0; i < CAP + 1; i++) {
      const text = await (await post(cappedServer.url, alice.apiKey, { ...hello, stream: true })).text()
      expect(text).toContain('"code":"upstream_timeout"')
    }
    // Ollama gone altogether.
    fake.set({ stallAfter: undefined })
    fake.down()
    try {
      for (let i = 0; i < CAP + 1; i++) expect((await post(cappedServer.url, alice.apiKey, hello)).status).toBe(503)
    } finally {
      fake.up()
    }
    await expectCapFull(alice.apiKey)
  })

  test('bad input gives its slot back', async () => {
    for (let i = 0; i < CAP + 1; i++)
      expect((await post(cappedServer.url, alice.apiKey, { ...hello, stream_options: 5 })).status).toBe(400)
    await expectCapFull(alice.apiKey)
  })

  test('0 turns the cap off', async () => {
    const open = await testApp({ OLLAMA_BASE_URL: fake.url, MAX_CONCURRENT_REQUESTS: '0', RATE_LIMIT_CHAT: '0' })
    const server = listen(open.app)
    const user = await seedUser(open.rt)
    fake.set({ chunks: 100_000, chunkDelayMs: 50 })
    try {
      const controllers = Array.from({ length: 10 }, () => new AbortController())
      const responses = await Promise.all(controllers.map((c) => post(server.url, user.apiKey, { ...hello, stream: true }, c.signal)))
      expect(responses.map((res) => res.status)).toEqual(Array(10).fill(200))
      controllers.forEach((c) => c.abort())
      await waitUntil(() => fake.aborted.length === 10)
    } finally {
      server.stop()
      await open.close()
    }
  })
})

const ceiling = await testApp({ OLLAMA_BASE_URL: fake.url, MAX_OUTPUT_TOKENS: '3', RATE_LIMIT_CHAT: '0' })
const ceilingUser = await seedUser(ceiling.rt)

describe('MAX_OUTPUT_TOKENS', () => {
  afterAll(() => ceiling.close())
  const ask = (body: object) => ceiling.call('/v1/chat/completions', { method: 'POST', json: { ...hello, ...body }, token: ceilingUser.apiKey })
  const sentNumPredict = () => fake.chats.at(-1)!.body.options?.num_predict

  test('a request without max_tokens gets the ceiling, and its reply stops there with finish_reason length', async () => {
    const res = await ask({})
    expect(res.status).toBe(200)
    expect(sentNumPredict()).toBe(3)
    const body = await res.json()
    expect(body.choices[0].finish_reason).toBe('length')
    expect(body.usage.completion_tokens).toBe(3)
  })

  test.each([
    ['max_tokens', 2147483647, 3],
    ['max_completion_tokens', 100, 3],
    ['max_tokens', 2, 2],
  ])('%s %d → num_predict %d', async (field, asked, sent) => {
    expect((await ask({ [field]: asked })).status).toBe(200)
    expect(sentNumPredict()).toBe(sent)
  })

  test('a stream asking for more is cut at the ceiling too', async () => {
    const events = parseSse(await (await ask({ stream: true, max_tokens: 1000 })).text())
    expect(sentNumPredict()).toBe(3)
    expect(chunksOf(events).flatMap((chunk) => chunk.choices.map((choice: { finish_reason: string | null }) => choice.finish_reason)).filter(Boolean)).toEqual(['length'])
  })
})

// The upstream is never silent for long here: only the request's age can stop it.
const limited = await testApp({ OLLAMA_BASE_URL: fake.url, MAX_REQUEST_SECONDS: '1', UPSTREAM_TIMEOUT_MS: '5000', RATE_LIMIT_CHAT: '0', MAX_CONCURRENT_REQUESTS: '1' })
const limitedServer = listen(limited.app)
const limitedUser = await seedUser(limited.rt)

describe('MAX_REQUEST_SECONDS', () => {
  const server = limitedServer
  const user = limitedUser
  afterAll(async () => {
    server.stop()
    await limited.close()
  })

  test('a stream past it ends with an error event and [DONE]; Ollama is told to stop; the log says why', async () => {
    fake.set({ chunks: 100_000, chunkDelayMs: 50 })
    const started = performance.now()
    const res = await post(server.url, user.apiKey, { ...hello, stream: true })
    const text = await res.text()
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000)
    const events = parseSse(text)
    expect(chunksOf(events.filter((e) => !e.event)).length).toBeGreaterThan(1)
    const error = events.find((e) => e.event === 'error')!
    expect(JSON.parse(error.data)).toEqual({ error: { message: expect.stringContaining('MAX_REQUEST_SECONDS'), type: 'timeout', param: null, code: 'request_timeout' } })
    expect(text.endsWith('event: error\ndata: ' + error.data + '\n\ndata: [DONE]\n\n')).toBe(true)
    await waitUntil(() => fake.aborted.length === 1)
    await settle(limited.rt)
    expect((await logRows(limited.rt, (row) => row.userId === user.userId)).at(-1)).toMatchObject({ status: 200, errorType: 'request_timeout', outcome: 'server_error' })
  })

  test('a client that stops reading is cut at the limit too: its slot and Ollama are freed', async () => {
    // Big pieces, sent as fast as possible: the socket's buffers fill and the gateway waits for the client.
    fake.set({ tokens: Array.from({ length: 2000 }, () => 'x'.repeat(64 * 1024)), chunkDelayMs: 0 })
    const { port } = new URL(server.url)
    const body = JSON.stringify({ ...hello, stream: true })
    const socket = await Bun.connect({
      hostname: '127.0.0.1',
      port: Number(port),
      socket: { data() {}, drain() {} },
    })
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${user.apiKey}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    )
    await waitUntil(() => fake.chats.length === 1)
    // Never read again: the kernel's buffers fill, then the gateway's write waits on the client.
    socket.pause()
    await waitUntil(() => fake.aborted.length === 1, 4000)
    // The one slot (MAX_CONCURRENT_REQUESTS=1) is free again, well before any idle timeout.
    fake.reset()
    expect((await post(server.url, user.apiKey, hello)).status).toBe(200)
    socket.end()
    await settle(limited.rt)
    expect((await logRows(limited.rt, (row) => row.userId === user.userId && row.status === 200)).at(-2)).toMatchObject({ errorType: 'request_timeout', outcome: 'server_error' })
  })

  test('a reply past it is a 504, and its slot is free again', async () => {
    fake.set({ chunks: 100_000, chunkDelayMs: 50 })
    const res = await post(server.url, user.apiKey, hello)
    expect(res.status).toBe(504)
    expect((await res.json()).error.code).toBe('request_timeout')
    await waitUntil(() => fake.aborted.length === 1)
    fake.reset()
    expect((await post(server.url, user.apiKey, hello)).status).toBe(200)
  })

  test('before the first byte too, without blaming the host (it stays up)', async () => {
    fake.set({ hang: true })
    const res = await post(server.url, user.apiKey, { ...hello, stream: true })
    expect(res.status).toBe(504)
    expect((await res.json()).error.code).toBe('request_timeout')
    const health = await (await fetch(`${server.url}/v1/health`, { headers: { authorization: `Bearer ${user.apiKey}` } })).json()
    expect(health.upstreams[0].reachable).toBe(true)
    expect(fake.chats).toHaveLength(1)
  })
})

test('the settings are checked at start-up', () => {
  for (const [name, value] of [
    ['MAX_CONCURRENT_REQUESTS', '-1'],
    ['MAX_OUTPUT_TOKENS', '0'],
    ['MAX_OUTPUT_TOKENS', '2147483648'],
    ['MAX_REQUEST_SECONDS', '0'],
    ['MAX_REQUEST_SECONDS', '1.5'],
  ]) {
    expect(() => loadConfig({ [name!]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name!]: value })).toThrow(name)
  }
  expect(loadConfig({})).toMatchObject({ maxConcurrentRequests: 8, maxOutputTokens: 32768, maxRequestSeconds: 600 })
})
