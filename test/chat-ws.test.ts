// Chat over the WebSocket /v1/chat/ws (src/chat/ws/) with Bun's own WebSocket client on a real
// listener: auth by subprotocol and by first message (and refusals: 1008), the same chunks as
// SSE, interleaved requests, cancel reaching the fake Ollama, malformed messages, the rate limit
// per request, a client that stops reading, pings of idle sockets, deactivation, a log row per
// request; and SIGTERM on the real server process (in-flight requests finish, or are cut at the
// deadline; then 1001).
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chatSockets } from '../src/chat/ws/sockets'
import { loadConfig } from '../src/config'
import { startRuntime } from '../src/runtime'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { logRows, settle } from './support/log'
import { freePort, waitFor } from './support/process'
import { chunksOf, parseSse } from './support/sse'
import { recordedThreats } from './support/threats'
import { seedUser } from './support/users'

const fake = await startFakeOllama()
const { rt, app, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url, UPSTREAM_TIMEOUT_MS: '2000', RATE_LIMIT_CHAT: '0' })
const sockets = chatSockets(rt, (request) => app.fetch(request), { authTimeoutMs: 300, maxBufferedBytes: 64 * 1024, idleTimeoutSeconds: 2 })
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  idleTimeout: 0,
  websocket: sockets.websocket,
  fetch: (request, server) => (sockets.wants(request) ? sockets.upgrade(request, server) : app.fetch(request)) as Response,
})
;(app as unknown as { server: typeof server }).server = server
const wsUrl = `ws://127.0.0.1:${server.port}/v1/chat/ws`
const user = await seedUser(rt)
afterAll(async () => {
  server.stop(true)
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }] }

type Message = { type: string; id?: string | number; chunk?: any; usage?: any; error?: any }

/** A socket with every message it received, and helpers to wait for them. */
async function openSocket(protocols?: string[], url = wsUrl) {
  const ws = new WebSocket(url, protocols)
  const messages: Message[] = []
  const waiters = new Set<() => void>()
  ws.onmessage = (event) => {
    messages.push(JSON.parse(String(event.data)))
    waiters.forEach((wake) => wake())
  }
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (ws.onclose = (event) => resolve({ code: event.code, reason: event.reason })))
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error('the socket did not open'))
  })
  /** Waits until a received message matches. */
  const until = (which: (message: Message) => boolean, timeoutMs = 5_000) =>
    new Promise<Message>((resolve, reject) => {
      const look = () => {
        const found = messages.find(which)
        if (!found) return
        waiters.delete(look)
        clearTimeout(timer)
        resolve(found)
      }
      const timer = setTimeout(() => {
        waiters.delete(look)
        reject(new Error(`no such message within ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 500)}`))
      }, timeoutMs)
      waiters.add(look)
      look()
    })
  const send = (message: unknown) => ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  const ended = (id: string | number) => until((m) => m.id === id && (m.type === 'done' || m.type === 'error'))
  return { ws, messages, until, send, ended, closed, of: (id: string | number) => messages.filter((m) => m.id === id) }
}

const withKey = () => openSocket(['ai-studio', `bearer.${user.apiKey}`])

describe('auth', () => {
  test('a token offered as a subprotocol: the server selects ai-studio', async () => {
    const socket = await withKey()
    expect(socket.ws.protocol).toBe('ai-studio')
    socket.send({ type: 'chat', id: 'a', request: hello })
    expect((await socket.ended('a')).type).toBe('done')
    socket.ws.close()
  })

  test('a JWT in a first auth message, chats sent right after it wait for its verdict', async () => {
    const socket = await openSocket()
    socket.send({ type: 'auth', token: user.accessToken })
    socket.send({ type: 'chat', id: 1, request: hello })
    expect((await socket.ended(1)).type).toBe('done')
    socket.ws.close()
  })

  test('a bad token (either way) closes with 1008 and a reason, recorded as an invalid_token threat', async () => {
    const byProtocol = await openSocket(['ai-studio', 'bearer.sk-studio-not-a-key'])
    expect(await byProtocol.closed).toEqual({ code: 1008, reason: expect.stringContaining('API key is invalid') })
    const byMessage = await openSocket()
    byMessage.send({ type: 'auth', token: 'not.a.jwt' })
    expect(await byMessage.closed).toEqual({ code: 1008, reason: expect.stringContaining('invalid or expired') })
    await Bun.sleep(20)
    const threats = await recordedThreats(rt, { type: 'invalid_token' })
    // Counted per address: the first crosses the recording threshold, the second is counted with it.
    expect(threats.map(({ address }) => address)).toEqual(['127.0.0.1'])
    expect(threats.map(({ detail }) => detail).join()).not.toContain('not-a-key')
  })

  test('no credentials within the auth timeout, or another first message: 1008', async () => {
    const silent = await openSocket()
    const started = performance.now()
    expect((await silent.closed).code).toBe(1008)
    expect(performance.now() - started).toBeLessThan(1_000)
    const chatty = await openSocket()
    chatty.send({ type: 'chat', id: 'x', request: hello })
    expect(await chatty.closed).toEqual({ code: 1008, reason: expect.stringContaining('first message must be') })
    expect(fake.chats).toHaveLength(0)
  })

  test('at most 16 sockets per address wait for an auth message: the 17th upgrade is a 429; a token offered as a subprotocol still opens one; once they are gone, sockets open again', async () => {
    const waiting = await Promise.all(Array.from({ length: 16 }, () => openSocket()))
    const refused = await fetch(wsUrl.replace('ws:', 'http:'), {
      headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' },
    })
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as any).error.code).toBe('too_many_pending_sockets')
    // A socket that offers its token is judged at once and does not wait: it opens meanwhile.
    const withCredentials = await withKey()
    expect(withCredentials.ws.readyState).toBe(WebSocket.OPEN)
    withCredentials.ws.close()
    await Promise.all(waiting.map((socket) => socket.closed)) // the auth timeout closes them
    const again = await openSocket()
    expect(again.ws.readyState).toBe(WebSocket.OPEN)
    again.ws.close()
  })

  test('a plain GET of the path is answered 426', async () => {
    const res = await call('/v1/chat/ws')
    expect(res.status).toBe(426)
    expect((await res.json()).error.code).toBe('upgrade_required')
  })
})

describe('chat', () => {
  test('the same chunk objects as the SSE stream, then done with the usage', async () => {
    const body = { ...hello, stream_options: { include_usage: true } }
    const sse = chunksOf(parseSse(await (await call('/v1/chat/completions', { method: 'POST', json: { ...body, stream: true }, token: user.apiKey })).text()))
    const socket = await withKey()
    socket.send({ type: 'chat', id: 'c', request: body })
    const done = await socket.ended('c')
    const chunks = socket.of('c').filter((m) => m.type === 'chunk').map((m) => m.chunk)
    const comparable = (chunk: any) => ({ ...chunk, id: 'x', created: 0 })
    expect(chunks.map(comparable)).toEqual(sse.map(comparable))
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1)
    expect(done).toEqual({ type: 'done', id: 'c', usage: sse.at(-1).usage })
    socket.ws.close()
  })

  test('several requests at once on one socket, their messages interleaved', async () => {
    fake.set({ chunks: 5, chunkDelayMs: 30 })
    const socket = await withKey()
    socket.send({ type: 'chat', id: 'one', request: hello })
    socket.send({ type: 'chat', id: 'two', request: { ...hello, model: 'llava:7b' } })
    await Promise.all([socket.ended('one'), socket.ended('two')])
    const order = socket.messages.map((m) => m.id)
    // Not one request's messages all before the other's.
    expect(order.indexOf('two')).toBeLessThan(order.lastIndexOf('one'))
    expect(socket.of('one').at(-1)!.type).toBe('done')
    expect(socket.of('two').at(-1)!.type).toBe('done')
    expect(socket.of('two')[0]!.chunk.model).toBe('llava:7b')
    socket.ws.close()
  })

  test('cancel aborts the upstream within 200 ms; the other request goes on', async () => {
    fake.set({ chunks: 100, chunkDelayMs: 30 })
    const socket = await withKey()
    socket.send({ type: 'chat', id: 'stop', request: hello })
    socket.send({ type: 'chat', id: 'go', request: { ...hello, messages: [{ role: 'user', content: 'Other' }] } })
    await socket.until((m) => m.id === 'stop' && m.type === 'chunk')
    const cancelledAt = performance.now()
    socket.send({ type: 'cancel', id: 'stop' })
    expect((await socket.ended('stop')).error.code).toBe('request_cancelled')
    for (const deadline = cancelledAt + 200; fake.aborted.length === 0 && performance.now() < deadline; ) await Bun.sleep(5)
    expect(fake.aborted).toHaveLength(1)
    expect(fake.aborted[0]!.at - cancelledAt).toBeLessThan(200)
    expect(fake.aborted[0]!.body.messages[0].content).toBe('Hello')
    socket.send({ type: 'cancel', id: 'go' })
    await socket.ended('go')
    socket.ws.close()
  })

  test('malformed messages get an error naming the problem, and the socket stays open', async () => {
    const socket = await withKey()
    const errors: Message[] = []
    for (const bad of ['not json', '[1]', { type: 'shout' }, { type: 'chat', request: hello }, { type: 'chat', id: 'r' }, { type: 'cancel', id: {} }]) {
      const before = socket.messages.length
      socket.send(bad)
      errors.push(await socket.until((m) => socket.messages.indexOf(m) >= before))
    }
    expect(errors.map((m) => [m.type, m.error.param, m.error.code])).toEqual([
      ['error', null, 'invalid_message'],
      ['error', null, 'invalid_message'],
      ['error', 'type', 'invalid_message'],
      ['error', 'id', 'invalid_message'],
      ['error', 'request', 'invalid_message'],
      ['error', 'id', 'invalid_message'],
    ])
    expect(errors[4]!.id).toBe('r')
    // The body is validated as the HTTP route validates it.
    socket.send({ type: 'chat', id: 'v', request: { model: 'llama3.2', messages: 'hi' } })
    const invalid = await socket.ended('v')
    expect(invalid.type).toBe('error')
    expect(invalid.error.param).toContain('messages')
    socket.send({ type: 'cancel', id: 'nothing' })
    expect((await socket.ended('nothing')).error.code).toBe('unknown_request')
    socket.send({ type: 'chat', id: 'ok', request: hello })
    expect((await socket.ended('ok')).type).toBe('done')
    expect(socket.ws.readyState).toBe(WebSocket.OPEN)
    socket.ws.close()
  })

  test('the chat rate limit counts each request on the socket', async () => {
    const limited = await seedUser(rt)
    rt.config.rateLimits.chat = 2
    try {
      const socket = await openSocket(['ai-studio', `bearer.${limited.apiKey}`])
      for (const id of [1, 2, 3]) socket.send({ type: 'chat', id, request: hello })
      const ends = await Promise.all([1, 2, 3].map((id) => socket.ended(id)))
      expect(ends.map((m) => m.type).sort()).toEqual(['done', 'done', 'error'])
      expect(ends.find((m) => m.type === 'error')!.error.code).toBe('rate_limit_exceeded')
      socket.ws.close()
    } finally {
      rt.config.rateLimits.chat = 0
    }
  })

  test('a budget counts each request on the socket: one that does not fit is refused with insufficient_quota', async () => {
    const admin = await seedUser(rt, { role: 'admin' })
    const budgeted = await seedUser(rt)
    // Room for one request's worst case (its 5 output tokens and a token per byte of its body), not two.
    const res = await call(`/api/admin/keys/${budgeted.apiKeyId}/budgets/day/`, { method: 'PUT', json: { maxCost: null, maxTokens: 150 }, token: admin.accessToken })
    expect(res.status).toBe(200)
    fake.set({ chunks: 5, chunkDelayMs: 30 })
    const socket = await openSocket(['ai-studio', `bearer.${budgeted.apiKey}`])
    for (const id of [1, 2]) socket.send({ type: 'chat', id, request: { ...hello, max_tokens: 5 } })
    const ends = await Promise.all([1, 2].map((id) => socket.ended(id)))
    expect(ends.map((m) => m.type).sort()).toEqual(['done', 'error'])
    expect(ends.find((m) => m.type === 'error')!.error).toMatchObject({ code: 'insufficient_quota', type: 'insufficient_quota' })
    socket.ws.close()
  })

  test('the concurrency cap counts requests in progress on the socket', async () => {
    const capped = await seedUser(rt)
    fake.set({ chunks: 10, chunkDelayMs: 20 })
    const before = rt.config.maxConcurrentRequests
    rt.config.maxConcurrentRequests = 1
    try {
      const socket = await openSocket(['ai-studio', `bearer.${capped.apiKey}`])
      socket.send({ type: 'chat', id: 'first', request: hello })
      await socket.until((m) => m.id === 'first' && m.type === 'chunk')
      socket.send({ type: 'chat', id: 'second', request: hello })
      expect((await socket.ended('second')).error.code).toBe('too_many_concurrent_requests')
      expect((await socket.ended('first')).type).toBe('done')
      // Its slot is back once it is done.
      socket.send({ type: 'chat', id: 'third', request: hello })
      expect((await socket.ended('third')).type).toBe('done')
      socket.ws.close()
    } finally {
      rt.config.maxConcurrentRequests = before
    }
  })

  test('a chat on the socket joins a conversation as over HTTP: the first chunk names it, and the server keeps both turns', async () => {
    const owner = await seedUser(rt)
    const socket = await openSocket(['ai-studio', `bearer.${owner.apiKey}`])
    socket.send({ type: 'chat', id: 'k1', request: { ...hello, conversationId: 'new' } })
    await socket.ended('k1')
    const first = socket.of('k1').find((m) => m.type === 'chunk')!.chunk
    expect(first.conversationId).toEqual(expect.any(String))
    // The reply is stored before the stream's end is sent: there as soon as `done` is.
    const kept = (await (await call(`/api/conversations/${first.conversationId}/`, { token: owner.apiKey })).json()).messages
    expect(kept.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant'])
    expect(kept[0].content).toBe('Hello')
    // Someone else's conversation is not found, before any upstream call.
    const other = await seedUser(rt)
    const stranger = await openSocket(['ai-studio', `bearer.${other.apiKey}`])
    stranger.send({ type: 'chat', id: 'k2', request: { ...hello, conversationId: first.conversationId } })
    const refused = await stranger.ended('k2')
    expect(refused).toMatchObject({ type: 'error', id: 'k2' })
    socket.ws.close()
    stranger.ws.close()
  })

  test('one log row per request, under /v1/chat/ws, with its user, model and tokens', async () => {
    const logged = await seedUser(rt)
    const socket = await openSocket(['ai-studio', `bearer.${logged.accessToken}`])
    socket.send({ type: 'chat', id: 'l1', request: hello })
    socket.send({ type: 'chat', id: 'l2', request: { ...hello, model: 'nope' } })
    await Promise.all([socket.ended('l1'), socket.ended('l2')])
    socket.ws.close()
    await Bun.sleep(20)
    await settle(rt)
    const rows = await logRows(rt, (row) => row.userId === logged.userId)
    expect(rows.map((row) => [row.path, row.method, row.status, row.outcome]).sort()).toEqual([
      ['/v1/chat/ws', 'POST', 200, 'ok'],
      ['/v1/chat/ws', 'POST', 404, 'client_error'],
    ])
    const ok = rows.find((row) => row.status === 200)!
    expect(ok.model).toBe('llama3.2')
    expect(ok.completionTokens).toBeGreaterThan(0)
    expect(ok.sessionId).toBe(logged.sessionId)
    // The socket's peer, as an HTTP request's.
    expect(ok.ip).toBe('127.0.0.1')
  })
})

describe('robustness', () => {
  test('a client that stops reading is disconnected and its upstream request cancelled', async () => {
    // Large pieces, sent as fast as the fake can: far more than the socket buffers hold.
    fake.set({ tokens: Array.from({ length: 20_000 }, (_, i) => `${i} ${'x'.repeat(2_000)}`) })
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')
    const frame = (text: string) => {
      // A masked client text frame.
      const payload = Buffer.from(text)
      const mask = Buffer.from([1, 2, 3, 4])
      const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255])
      return Buffer.concat([header, mask, payload.map((byte, i) => byte ^ mask[i % 4]!)])
    }
    const socket = connect(server.port!, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write(
      `GET /v1/chat/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ai-studio, bearer.${user.apiKey}\r\n\r\n`,
    )
    await new Promise((resolve) => socket.once('data', resolve))
    socket.write(frame(JSON.stringify({ type: 'chat', id: 'flood', request: hello })))
    // From now on nothing is read.
    socket.pause()
    for (const deadline = performance.now() + 10_000; fake.aborted.length === 0 && performance.now() < deadline; ) await Bun.sleep(20)
    expect(fake.aborted).toHaveLength(1)
    expect(fake.aborted[0]!.chunksSent).toBeLessThan(20_000)
    expect(sockets.inFlight()).toBe(0)
    socket.destroy()
  })

  test('idle sockets are pinged: a client that answers (Bun\'s) stays open and chats on; one that never answers is closed', async () => {
    // Bun pings after the idle timeout (2 s here, counted in steps of 4 s) and closes a socket
    // that has not answered by the next step.
    const answering = await withKey()
    const silent = connect(server.port!, '127.0.0.1')
    silent.write(
      'GET /v1/chat/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ai-studio, bearer.${user.apiKey}\r\n\r\n`,
    )
    const opcodes: number[] = []
    let upgraded = false
    silent.on('data', (data: Buffer) => {
      if (!upgraded) return void (upgraded = data.toString('latin1').startsWith('HTTP/1.1 101'))
      opcodes.push(data[0]! & 0x0f)
    })
    const silentClosed = new Promise<number>((resolve) => silent.on('close', () => resolve(Date.now())))
    const began = Date.now()
    const closedAfter = (await silentClosed) - began
    expect(upgraded).toBe(true)
    expect(opcodes).toContain(0x9)
    expect(closedAfter).toBeLessThan(12_000)
    await Bun.sleep(1_000)
    expect(answering.ws.readyState).toBe(WebSocket.OPEN)
    answering.send({ type: 'chat', id: 'after-idle', request: hello })
    expect((await answering.ended('after-idle')).type).toBe('done')
    answering.ws.close()
  }, 20_000)

  test('deactivating the user closes their sockets within 1 s (1008), aborting their requests', async () => {
    const admin = await seedUser(rt, { role: 'admin' })
    const doomed = await seedUser(rt)
    fake.set({ chunks: 1000, chunkDelayMs: 20 })
    const byKey = await openSocket(['ai-studio', `bearer.${doomed.apiKey}`])
    const byJwt = await openSocket(['ai-studio', `bearer.${doomed.accessToken}`])
    byKey.send({ type: 'chat', id: 'k', request: hello })
    await byKey.until((m) => m.type === 'chunk')
    const res = await call(`/api/admin/users/${doomed.userId}`, { method: 'PATCH', json: { isActive: false }, token: admin.accessToken })
    expect(res.status).toBe(200)
    const at = performance.now()
    const [one, two] = await Promise.all([byKey.closed, byJwt.closed])
    expect(performance.now() - at).toBeLessThan(1_000)
    expect(one.code).toBe(1008)
    expect(two.code).toBe(1008)
    for (const deadline = performance.now() + 500; fake.aborted.length === 0 && performance.now() < deadline; ) await Bun.sleep(5)
    expect(fake.aborted).toHaveLength(1)
  })
})

describe('shutdown', () => {
  const folder = mkdtempSync(join(tmpdir(), 'chat-ws-'))
  afterAll(() => rmSync(folder, { recursive: true, force: true }))

  test('SIGTERM: a request in flight finishes, then the socket closes with 1001', async () => {
    fake.set({ chunks: 20, chunkDelayMs: 50 })
    const port = await freePort()
    const database = join(folder, 'serve.db')
    const setup = await startRuntime(loadConfig({ DATABASE_URL: `sqlite://${database}` }))
    const { apiKey } = await seedUser(setup)
    await setup.close()
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, '..', 'src', 'index.ts'), 'serve'], {
      cwd: folder,
      env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite://${database}`, OLLAMA_BASE_URL: fake.url },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      await waitFor(`http://127.0.0.1:${port}/api/auth/health/`)
      const socket = await openSocket(['ai-studio', `bearer.${apiKey}`], `ws://127.0.0.1:${port}/v1/chat/ws`)
      socket.send({ type: 'chat', id: 'last', request: hello })
      await socket.until((m) => m.type === 'chunk')
      proc.kill('SIGTERM')
      const done = await socket.ended('last')
      expect(done.type).toBe('done')
      expect(socket.of('last').filter((m) => m.type === 'chunk').length).toBeGreaterThanOrEqual(20)
      expect((await socket.closed).code).toBe(1001)
      expect(await proc.exited).toBe(0)
    } finally {
      proc.kill()
    }
  }, 20_000)

  test('SIGTERM with a request longer than SHUTDOWN_TIMEOUT_MS: it is cut at the deadline with an error message, the socket closes with 1001, the process exits', async () => {
    fake.set({ chunks: 200, chunkDelayMs: 50 })
    const port = await freePort()
    const database = join(folder, 'cut.db')
    const setup = await startRuntime(loadConfig({ DATABASE_URL: `sqlite://${database}` }))
    const { apiKey } = await seedUser(setup)
    await setup.close()
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, '..', 'src', 'index.ts'), 'serve'], {
      cwd: folder,
      env: {
        PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite://${database}`, OLLAMA_BASE_URL: fake.url,
        SHUTDOWN_TIMEOUT_MS: '500',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      await waitFor(`http://127.0.0.1:${port}/api/auth/health/`)
      const socket = await openSocket(['ai-studio', `bearer.${apiKey}`], `ws://127.0.0.1:${port}/v1/chat/ws`)
      socket.send({ type: 'chat', id: 'long', request: hello })
      await socket.until((m) => m.type === 'chunk')
      const signalled = Date.now()
      proc.kill('SIGTERM')
      const ended = await socket.ended('long')
      expect(ended.type).toBe('error')
      expect(JSON.stringify(ended.error)).toContain('shut')
      expect((await socket.closed).code).toBe(1001)
      expect(await proc.exited).toBe(0)
      expect(Date.now() - signalled).toBeLessThan(500 + 1_300 + 1_000)
      expect(socket.of('long').filter((m) => m.type === 'chunk').length).toBeLessThan(200)
    } finally {
      proc.kill()
    }
  }, 20_000)
})
