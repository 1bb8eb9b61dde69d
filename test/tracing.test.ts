// OpenTelemetry traces (issue 19, deliverable 2), received by a local OTLP/HTTP receiver
// (./support/otlp-receiver.ts): a span per request in the GenAI conventions, its children
// (authentication, the upstream call, the request log's write) under it, an incoming W3C
// `traceparent` continued and the upstream call's passed on to Ollama; prompts and replies only
// with OTEL_CAPTURE_CONTENT=true; a failed upstream marked; nothing loaded or sent when unset.
import { afterAll, beforeEach, describe, expect, spyOn, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { tracingOf } from '../src/observability/tracing'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { startOtlpReceiver, type ReceivedSpan } from './support/otlp-receiver'
import { run } from './support/process'
import { seedUser } from './support/users'

const receiver = await startOtlpReceiver()
const fake = await startFakeOllama()
const env = { OLLAMA_BASE_URL: fake.url, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_SERVICE_NAME: 'studio-test' }
const traced = await testApp(env)
const server = listen(traced.app)
const user = await seedUser(traced.rt)
afterAll(async () => {
  server.stop()
  await traced.close()
  fake.stop()
  receiver.stop()
})
beforeEach(() => fake.reset())

const INCOMING_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const INCOMING_SPAN = '00f067aa0ba902b7'

const chat = (base: string, key: string, headers: Record<string, string> = {}, body: Record<string, unknown> = {}) =>
  fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'a secret prompt' }], ...body }),
  })

const childrenOf = (parent: ReceivedSpan) => receiver.spans.filter((span) => span.parentSpanId === parent.spanId && span.traceId === parent.traceId)

describe('traces', () => {
  test('a chat: the request span in the GenAI conventions continues the incoming traceparent; its children; the traceparent passed to Ollama', async () => {
    fake.set({ chunks: 3 })
    const res = await chat(server.url, user.apiKey, { traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01` })
    expect(res.status).toBe(200)
    const usage = (await res.json()).usage

    const root = await receiver.span((span) => span.traceId === INCOMING_TRACE && span.kind === 2)
    expect(root).toMatchObject({
      name: 'chat llama3.2',
      parentSpanId: INCOMING_SPAN,
      resource: { 'service.name': 'studio-test' },
      attributes: {
        'http.request.method': 'POST',
        'http.route': '/v1/chat/completions',
        'http.response.status_code': 200,
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'llama3.2',
        'gen_ai.response.model': 'llama3.2',
        'gen_ai.usage.input_tokens': usage.prompt_tokens,
        'gen_ai.usage.output_tokens': usage.completion_tokens,
        'gen_ai.response.finish_reasons': ['stop'],
        'server.address': fake.url,
      },
    })
    // Prompts and replies are not recorded unless asked for.
    expect(JSON.stringify(receiver.spans)).not.toContain('a secret prompt')

    await receiver.span((span) => span.name === 'request log write' && span.parentSpanId === root.spanId)
    const children = childrenOf(root)
    expect(children.map((span) => span.name).sort()).toEqual(['authenticate', 'request log write', 'upstream llama3.2'])
    const upstream = children.find((span) => span.name === 'upstream llama3.2')!
    expect(upstream).toMatchObject({ kind: 3, attributes: { 'server.address': fake.url, 'gen_ai.provider.name': 'ollama', 'gen_ai.request.model': 'llama3.2' } })
    // Ollama was told the upstream call's span as its parent.
    const sent = fake.requests.find((request) => request.path === '/api/chat')!
    expect(sent.traceparent).toBe(`00-${INCOMING_TRACE}-${upstream.spanId}-01`)
  })

  test('without a traceparent a new trace starts; a streamed reply is one span to its end; the official client works unchanged', async () => {
    const client = new OpenAI({ apiKey: user.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
    const before = receiver.spans.length
    const stream = await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } })
    let usage
    for await (const chunk of stream) usage = chunk.usage ?? usage
    const root = await receiver.span((span, i = receiver.spans.indexOf(span)) => i >= before && span.kind === 2 && span.name === 'chat llama3.2')
    expect(root.parentSpanId).toBeUndefined()
    expect(root.traceId).not.toBe(INCOMING_TRACE)
    expect(root.attributes['gen_ai.usage.output_tokens']).toBe(usage!.completion_tokens)
  })

  test('embeddings: an embeddings span, its upstream call told to Ollama as the parent', async () => {
    const traceId = 'e'.repeat(32)
    const res = await fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.apiKey}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${INCOMING_SPAN}-01` },
      body: JSON.stringify({ model: 'nomic-embed-text', input: ['one', 'two'] }),
    })
    expect(res.status).toBe(200)
    const root = await receiver.span((span) => span.traceId === traceId && span.kind === 2)
    expect(root).toMatchObject({ name: 'embeddings nomic-embed-text', attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.usage.input_tokens': (await res.json()).usage.prompt_tokens } })
    const upstream = await receiver.span((span) => span.traceId === traceId && span.kind === 3)
    expect(fake.requests.find((request) => request.path === '/api/embed')!.traceparent).toBe(`00-${traceId}-${upstream.spanId}-01`)
  })

  test('other routes are spans named by method and route; a malformed traceparent starts a new trace', async () => {
    const res = await fetch(`${server.url}/api/auth/me/`, { headers: { authorization: `Bearer ${user.accessToken}`, traceparent: '00-zzzz-not-a-trace' } })
    expect(res.status).toBe(200)
    const span = await receiver.span((each) => each.attributes['http.route'] === '/api/auth/me')
    expect(span).toMatchObject({ name: 'GET /api/auth/me', kind: 2 })
    expect(span.parentSpanId).toBeUndefined()
    expect(span.attributes['gen_ai.operation.name']).toBeUndefined()
  })

  test('an upstream that fails: its span and the request\'s marked as failed, with the error type', async () => {
    fake.set({ chatStatus: 500 })
    const res = await chat(server.url, user.apiKey, { traceparent: `00-${'a'.repeat(32)}-${INCOMING_SPAN}-01` })
    expect(res.status).toBe(502)
    const root = await receiver.span((span) => span.traceId === 'a'.repeat(32) && span.kind === 2)
    expect(root.status.code).toBe(2)
    expect(root.attributes['error.type']).toBeString()
    const upstream = await receiver.span((span) => span.traceId === 'a'.repeat(32) && span.kind === 3)
    expect(upstream.status.code).toBe(2)
    expect(upstream.attributes['error.type']).toBeString()
  })

  test('a refused request is a span with its status and error type, and no upstream child', async () => {
    const res = await chat(server.url, 'sk-studio-not-a-key', { traceparent: `00-${'b'.repeat(32)}-${INCOMING_SPAN}-01` })
    expect(res.status).toBe(401)
    const root = await receiver.span((span) => span.traceId === 'b'.repeat(32) && span.kind === 2)
    expect(root.attributes).toMatchObject({ 'http.response.status_code': 401, 'error.type': 'invalid_api_key' })
    // A 4xx is the client's: the server span is not an error.
    expect(root.status.code ?? 0).not.toBe(2)
    await Bun.sleep(100)
    expect(receiver.spans.filter((span) => span.traceId === 'b'.repeat(32) && span.kind === 3)).toEqual([])
  })
})

test('OTEL_CAPTURE_CONTENT=true records the prompt and the reply', async () => {
  const capturing = await testApp({ ...env, OTEL_CAPTURE_CONTENT: 'true' })
  const listener = listen(capturing.app)
  try {
    const someone = await seedUser(capturing.rt)
    fake.set({ chunks: 2 })
    const traceId = 'c'.repeat(32)
    expect((await chat(listener.url, someone.apiKey, { traceparent: `00-${traceId}-${INCOMING_SPAN}-01` })).status).toBe(200)
    const root = await receiver.span((span) => span.traceId === traceId && span.kind === 2)
    expect(JSON.parse(String(root.attributes['gen_ai.input.messages']))).toEqual([{ role: 'user', content: 'a secret prompt' }])
    expect(JSON.parse(String(root.attributes['gen_ai.output.messages']))).toMatchObject([{ role: 'assistant', content: 'tok0 tok1 ' }])
  } finally {
    listener.stop()
    await capturing.close()
  }
})

test('OTEL_TRACES_SAMPLER: a ratio of 0 traces nothing new, yet a sampled incoming trace is continued (parent-based); always_off traces nothing', async () => {
  for (const [sampler, continued] of [['parentbased_traceidratio', true], ['always_off', false]] as const) {
    const sampled = await testApp({ ...env, OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: '0' })
    const listener = listen(sampled.app)
    try {
      const someone = await seedUser(sampled.rt)
      const [unsampledTrace, sampledTrace] = sampler === 'always_off' ? ['1'.repeat(32), '2'.repeat(32)] : ['3'.repeat(32), '4'.repeat(32)]
      // A traceparent whose flags say "not sampled", and one that says "sampled".
      expect((await chat(listener.url, someone.apiKey, { traceparent: `00-${unsampledTrace}-${INCOMING_SPAN}-00` })).status).toBe(200)
      // Left out, the trace is still passed on, marked not sampled.
      expect(fake.requests.findLast((request) => request.path === '/api/chat')!.traceparent).toMatch(new RegExp(`^00-${unsampledTrace}-[0-9a-f]{16}-00$`))
      expect((await chat(listener.url, someone.apiKey, { traceparent: `00-${sampledTrace}-${INCOMING_SPAN}-01` })).status).toBe(200)
      if (continued) expect((await receiver.span((span) => span.traceId === sampledTrace && span.kind === 2)).name).toBe('chat llama3.2')
      await Bun.sleep(150)
      expect(receiver.spans.filter((span) => span.traceId === unsampledTrace)).toEqual([])
      if (!continued) expect(receiver.spans.filter((span) => span.traceId === sampledTrace)).toEqual([])
    } finally {
      listener.stop()
      await sampled.close()
    }
  }
})

test("the exporter's standard settings: OTEL_EXPORTER_OTLP_HEADERS sent with each export (a collector's key), gzip when OTEL_EXPORTER_OTLP_COMPRESSION asks", async () => {
  for (const compression of ['none', 'gzip']) {
    const configured = await testApp({ ...env, OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=key%20one,x-team=gateway', OTEL_EXPORTER_OTLP_COMPRESSION: compression })
    const listener = listen(configured.app)
    try {
      const someone = await seedUser(configured.rt)
      const traceId = compression === 'gzip' ? '5'.repeat(32) : '6'.repeat(32)
      const postsBefore = receiver.posts.length
      expect((await chat(listener.url, someone.apiKey, { traceparent: `00-${traceId}-${INCOMING_SPAN}-01` })).status).toBe(200)
      expect((await receiver.span((span) => span.traceId === traceId && span.kind === 2)).name).toBe('chat llama3.2')
      const post = receiver.posts.slice(postsBefore).find((each) => each.headers.get('x-collector-key'))!
      expect(post.headers.get('x-collector-key')).toBe('key one')
      expect(post.headers.get('x-team')).toBe('gateway')
      expect(post.contentType).toStartWith('application/json')
      expect(post.contentEncoding).toBe(compression === 'gzip' ? 'gzip' : null)
    } finally {
      listener.stop()
      await configured.close()
    }
  }
})

test('a collector that cannot be reached: requests are answered, and closing says so in one line instead of failing', async () => {
  const gone = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = gone.port
  const url = `http://127.0.0.1:${port}`
  gone.stop(true)
  // Credentials in the endpoint's address are never logged.
  const unreachable = await testApp({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://collector:s3cret@127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '60000', OTEL_EXPORTER_OTLP_TIMEOUT: '300' })
  const listener = listen(unreachable.app)
  const said = spyOn(console, 'error').mockImplementation(() => {})
  try {
    const someone = await seedUser(unreachable.rt)
    expect((await chat(listener.url, someone.apiKey)).status).toBe(200)
    listener.stop()
    await unreachable.close()
    const lines = said.mock.calls.map((call) => String(call[0]))
    expect(lines.filter((line) => line.startsWith(`traces: the last spans could not be sent to ${url}/v1/traces (`))).toHaveLength(1)
    expect(lines.join('\n')).not.toContain('s3cret')
  } finally {
    said.mockRestore()
    listener.stop()
  }
})

test('unset: no tracing is loaded and nothing is sent', async () => {
  const plain = await testApp({ OLLAMA_BASE_URL: fake.url })
  const listener = listen(plain.app)
  try {
    expect(tracingOf(plain.rt)).toBeUndefined()
    const someone = await seedUser(plain.rt)
    const traceId = 'd'.repeat(32)
    expect((await chat(listener.url, someone.apiKey, { traceparent: `00-${traceId}-${INCOMING_SPAN}-01` })).status).toBe(200)
    await Bun.sleep(150)
    expect(receiver.spans.filter((span) => span.traceId === traceId)).toEqual([])
    // Ollama is not sent a traceparent of ours.
    expect(fake.requests.find((request) => request.path === '/api/chat')?.traceparent).toBeUndefined()
  } finally {
    listener.stop()
    await plain.close()
  }
})

test('unset, the OpenTelemetry packages are not even loaded (a process of its own)', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'studio-tracing-'))
  try {
    const script = join(folder, 'loaded.ts')
    const src = join(import.meta.dir, '..', 'src')
    writeFileSync(
      script,
      `import { loadConfig } from '${src}/config'
import { startRuntime } from '${src}/runtime'
import { startTracing } from '${src}/observability/tracing'
const rt = await startRuntime(loadConfig({ DATABASE_URL: 'sqlite://:memory:', ...(process.argv[2] ? { OTEL_EXPORTER_OTLP_ENDPOINT: process.argv[2] } : {}) }))
await startTracing(rt)
console.log(Object.keys(require.cache).filter((path) => path.includes('@opentelemetry')).length)
await rt.close()`,
    )
    const loaded = async (...args: string[]) => Number((await run([process.execPath, script, ...args], { cwd: folder, env: {} })).stdout.trim())
    expect(await loaded()).toBe(0)
    expect(await loaded(receiver.url)).toBeGreaterThan(0)
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
})
