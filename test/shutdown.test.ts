// SIGTERM on the real server process: every request the server answered is in the request log
// afterwards; while it drains, new requests (on new and on kept-alive connections) get 503 with
// `Connection: close`; streams still open at SHUTDOWN_TIMEOUT_MS end with an error event and
// [DONE]. The batch window is set far beyond the tests, so only the shutdown flush writes rows.
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { startRuntime } from '../src/runtime'
import { startFakeOllama } from './support/fake-ollama'
import { logRows } from './support/log'
import { freePort, waitFor } from './support/process'
import { chunksOf, parseSse } from './support/sse'
import { seedUser } from './support/users'

const folder = mkdtempSync(join(tmpdir(), 'studio-shutdown-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

const until = async (condition: () => boolean, what: string, timeoutMs = 10_000) => {
  for (const deadline = Date.now() + timeoutMs; !condition(); await Bun.sleep(10))
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
}

/** Starts `serve` on a database of its own, with a user whose API key is returned. */
async function startServer(name: string, env: Record<string, string> = {}) {
  const port = await freePort()
  const database = join(folder, `${name}.db`)
  const rt = await startRuntime(loadConfig({ DATABASE_URL: `sqlite://${database}` }))
  const { apiKey } = await seedUser(rt)
  await rt.close()
  const server = Bun.spawn([process.execPath, join(import.meta.dir, '..', 'src', 'index.ts'), 'serve'], {
    cwd: folder,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite://${database}`,
      LOG_FLUSH_MS: '60000',
      LOG_BATCH_SIZE: '100000',
      // Every anonymous request keeps its row, so that rows can be counted against answers.
      RATE_LIMIT_ANONYMOUS: '0',
      ...env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let output = ''
  void (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of server.stdout) output += decoder.decode(chunk, { stream: true })
  })()
  const base = `http://127.0.0.1:${port}`
  await waitFor(`${base}/api/auth/health/`)
  /** The request log as the server left it, read through a runtime of our own on its database. */
  const rows = async (): Promise<LogRow[]> => {
    const reader = await startRuntime(loadConfig({ DATABASE_URL: `sqlite://${database}` }))
    try {
      return (await logRows(reader)).map(({ path, status, errorType, outcome }) => ({ path, status, errorType, outcome }))
    } finally {
      await reader.close()
    }
  }
  return {
    base,
    port,
    server,
    apiKey,
    output: () => output,
    /** Sends SIGTERM and waits until the server says it is draining. */
    async terminate() {
      server.kill('SIGTERM')
      await until(() => output.includes('SIGTERM: '), 'the server announcing its shutdown')
    },
    rows,
  }
}

type LogRow = { path: string; status: number; errorType: string | null; outcome: string }

/** One HTTP/1.1 connection kept alive between requests, as browsers and SDKs keep theirs. */
async function keptAliveConnection(port: number) {
  const socket = connect(port, '127.0.0.1')
  let received = ''
  let closed = false
  socket.on('data', (data) => (received += data.toString()))
  socket.on('close', () => (closed = true))
  socket.on('error', () => {})
  await new Promise((resolve) => socket.once('connect', resolve))
  const complete = () => {
    const end = received.indexOf('\r\n\r\n')
    const length = /\r\ncontent-length: *(\d+)/i.exec(received)
    return end >= 0 && length !== null && Buffer.byteLength(received.slice(end + 4)) >= Number(length[1])
  }
  return {
    get closed() {
      return closed
    },
    /** The response to a GET, once it has all arrived; a connection closed without one gives status 0. */
    async get(path: string) {
      received = ''
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
      await until(() => complete() || closed, `the response to GET ${path}`)
      const [head = '', body = ''] = received.split('\r\n\r\n')
      const [statusLine, ...lines] = head.split('\r\n')
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
      return { status: Number(statusLine?.split(' ')[1] ?? 0) || 0, headers, body }
    },
  }
}

function chat(base: string, apiKey: string, stream: boolean) {
  return fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }], stream }),
  })
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>, first = '') {
  const decoder = new TextDecoder()
  let text = first
  for (let next = await reader.read(); !next.done; next = await reader.read()) text += decoder.decode(next.value, { stream: true })
  return text
}

test(
  'no answered request is lost on SIGTERM under load',
  async () => {
    const { base, server, output, rows, terminate } = await startServer('load')
    let answered = 1 // the readiness probe
    let refused = 0

    const paths = ['/api/auth/health/', '/api/nothing-here/', '/v1/nothing-here', '/api/dashboard/health/']
    const client = async (id: number) => {
      for (let i = 0; refused === 0 && i < 5000; i++) {
        try {
          const res = await fetch(`${base}${paths[(id + i) % paths.length]}`)
          await res.arrayBuffer()
          answered++
        } catch {
          refused++
        }
      }
    }
    const load = Promise.all(Array.from({ length: 24 }, (_, id) => client(id)))
    await Bun.sleep(700)
    expect(answered).toBeGreaterThan(50)
    await terminate()
    await load
    expect(await server.exited).toBe(0)
    expect(output()).toContain('stopped cleanly')

    const logged = await rows()
    const reader = await startRuntime(loadConfig({ DATABASE_URL: `sqlite://${join(folder, 'load.db')}` }))
    const rolledUp = (await reader.store.dashboard.logCounts(0)).total
    await reader.close()
    expect(refused).toBeGreaterThan(0)
    expect(logged.length).toBe(answered)
    expect(rolledUp).toBe(answered)
  },
  30_000,
)

test(
  'after SIGTERM new requests get 503 with Connection: close and are logged; streams cut at the deadline end with an error event and [DONE]',
  async () => {
    // Replies that would take minutes: only the shutdown deadline ends them.
    const fake = await startFakeOllama({ chunks: 100_000, chunkDelayMs: 50 })
    try {
      const { base, port, server, apiKey, output, rows, terminate } = await startServer('drain', {
        OLLAMA_BASE_URL: fake.url,
        SHUTDOWN_TIMEOUT_MS: '2000',
      })
      const connection = await keptAliveConnection(port)
      expect((await connection.get('/v1/health')).status).toBe(200)

      const stream = await chat(base, apiKey, true)
      const reader = stream.body!.getReader()
      const first = new TextDecoder().decode((await reader.read()).value)
      const reply = chat(base, apiKey, false)
      await until(() => fake.chats.length === 2, 'both chats reaching Ollama')

      await terminate()
      // The kept-alive connection is still served: with a 503 that closes it.
      const refused = await connection.get('/v1/health')
      expect(refused.status).toBe(503)
      expect(refused.headers.connection).toBe('close')
      expect(refused.headers['retry-after']).toBe('5')
      expect(JSON.parse(refused.body)).toEqual({
        error: { message: expect.stringContaining('shutting down'), type: 'service_unavailable', param: null, code: 'server_shutting_down' },
      })
      await until(() => connection.closed, 'the server closing the connection')
      // So is a new connection, while the chats drain.
      const fresh = await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } })
      expect(fresh.status).toBe(503)
      expect(fresh.headers.get('connection')).toBe('close')
      expect((await fresh.json()).error.code).toBe('server_shutting_down')

      // At the deadline the stream gets its ending, the reply its 503, Ollama its aborts.
      const text = await readAll(reader, first)
      const events = parseSse(text)
      expect(chunksOf(events.filter((event) => !event.event)).length).toBeGreaterThan(0)
      expect(JSON.parse(events.find((event) => event.event === 'error')!.data).error.code).toBe('server_shutting_down')
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
      const cut = await reply
      expect(cut.status).toBe(503)
      expect((await cut.json()).error.code).toBe('server_shutting_down')
      expect(await server.exited).toBe(0)
      expect(output()).toContain('stopped cleanly')
      await until(() => fake.aborted.length === 2, 'Ollama seeing both chats aborted')

      const logged = (await rows()).filter((row) => !row.path.startsWith('/api/auth/health')) // the readiness probe
      expect(logged).toHaveLength(5)
      expect(logged).toEqual(
        expect.arrayContaining([
          { path: '/v1/health', status: 200, errorType: null, outcome: 'ok' },
          { path: '/v1/health', status: 503, errorType: 'server_shutting_down', outcome: 'server_error' },
          { path: '/v1/models', status: 503, errorType: 'server_shutting_down', outcome: 'server_error' },
          { path: '/v1/chat/completions', status: 200, errorType: 'server_shutting_down', outcome: 'server_error' },
          { path: '/v1/chat/completions', status: 503, errorType: 'server_shutting_down', outcome: 'server_error' },
        ]),
      )
    } finally {
      fake.stop()
    }
  },
  30_000,
)

test(
  'a stream in flight at SIGTERM finishes whole, and the server stops as soon as it has',
  async () => {
    const fake = await startFakeOllama({ chunks: 20, chunkDelayMs: 50 })
    try {
      const { base, server, apiKey, output, rows, terminate } = await startServer('finish', {
        OLLAMA_BASE_URL: fake.url,
        SHUTDOWN_TIMEOUT_MS: '60000',
      })
      const stream = await chat(base, apiKey, true)
      const reader = stream.body!.getReader()
      const first = new TextDecoder().decode((await reader.read()).value)
      await terminate()
      const terminatedAt = performance.now()
      const text = await readAll(reader, first)
      expect(text).not.toContain('event: error')
      expect(text).toContain('"finish_reason":"stop"')
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
      expect(await server.exited).toBe(0)
      // Far less than SHUTDOWN_TIMEOUT_MS: shutdown waited for the stream, not for the deadline.
      expect(performance.now() - terminatedAt).toBeLessThan(20_000)
      expect(output()).toContain('stopped cleanly')
      expect((await rows()).filter((row) => row.path === '/v1/chat/completions')).toEqual([
        { path: '/v1/chat/completions', status: 200, errorType: null, outcome: 'ok' },
      ])
      expect(fake.aborted).toHaveLength(0)
    } finally {
      fake.stop()
    }
  },
  30_000,
)

test(
  'a stream whose client stopped reading does not hold shutdown past SHUTDOWN_TIMEOUT_MS and a second',
  async () => {
    // Big pieces as fast as possible: the socket's buffers fill and the gateway waits for its client.
    const fake = await startFakeOllama({ tokens: Array.from({ length: 2000 }, () => 'x'.repeat(64 * 1024)), chunkDelayMs: 0 })
    try {
      const { port, server, apiKey, output, rows, terminate } = await startServer('stalled', {
        OLLAMA_BASE_URL: fake.url,
        SHUTDOWN_TIMEOUT_MS: '1500',
      })
      const body = JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }], stream: true })
      const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {}, drain() {} } })
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${apiKey}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      )
      await until(() => fake.chats.length === 1, 'the chat reaching Ollama')
      socket.pause()
      await Bun.sleep(300)
      await terminate()
      const terminatedAt = performance.now()
      expect(await server.exited).toBe(0)
      // The deadline, half a second for the endings, and the closing: under Docker's 10 s grace period with the default 8 s.
      expect(performance.now() - terminatedAt).toBeLessThan(1500 + 500 + 1000)
      expect(output()).toContain('stopped cleanly')
      expect((await rows()).filter((row) => row.path === '/v1/chat/completions')).toEqual([
        { path: '/v1/chat/completions', status: 200, errorType: 'server_shutting_down', outcome: 'server_error' },
      ])
      socket.end()
    } finally {
      fake.stop()
    }
  },
  30_000,
)
