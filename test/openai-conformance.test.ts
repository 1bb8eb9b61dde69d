// Every kind of answer the gateway gives under /v1, checked against OpenAI's own published
// schemas (./support/openai-schemas.ts): replies and each streamed chunk, models, and the error
// envelope of every failure, as a client reads them off a real socket; the chat WebSocket's
// chunks, usage and errors too. Each kind of HTTP answer is one row of ANSWERS below; the
// gateway's own fields beyond OpenAI's are pinned in EXTENSIONS. Last, /swagger/json is checked
// to describe every route the server answers.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { chatSockets } from '../src/chat/ws/sockets'
import { testApp } from './support/app'
import { defaultModels, startFakeOllama, type Knobs } from './support/fake-ollama'
import { startFakeOpenAiServer } from './support/fake-openai-server'
import { expectConforms, undeclaredFields, validatorOf } from './support/openai-schemas'
import { chunksOf, parseSse } from './support/sse'
import { seedUser } from './support/users'

const models = [
  ...defaultModels,
  { name: 'hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M', family: 'qwen3', parameterSize: '8B', quantization: 'Q4_K_M', capabilities: ['completion', 'tools', 'thinking'] },
]
const fake = await startFakeOllama({ models, thinking: 'The user greets me.' })
// An image server beside it (OPENAI_UPSTREAMS), for the images answers.
const imageServer = await startFakeOpenAiServer({ models: ['sd-turbo'] })

/** A gateway on a real socket, chat WebSocket included (as src/cli/serve.ts wires it), with a user whose API key the requests carry. */
async function startGateway(env: Record<string, string>) {
  const app = await testApp(env)
  const sockets = chatSockets(app.rt, (request) => app.app.fetch(request))
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    websocket: sockets.websocket,
    fetch: (request, server) => (sockets.wants(request) ? sockets.upgrade(request, server) : app.app.fetch(request)) as Response,
  })
  ;(app.app as unknown as { server: typeof server }).server = server
  const user = await seedUser(app.rt)
  const url = `http://127.0.0.1:${server.port}`
  return { ...app, url, user, stop: async () => (server.stop(true), await app.close()) }
}
type Gateway = Awaited<ReturnType<typeof startGateway>>

// The response cache is on so that replayed answers are checked too.
const gateway = await startGateway({ OLLAMA_BASE_URL: fake.url, CACHE_TTL_SECONDS: '600', OPENAI_UPSTREAMS: `sd=${imageServer.url}`, OPENAI_UPSTREAM_SD_CAPABILITIES: 'image' })
// A gateway whose only Ollama host is down: port 1, where nothing listens, refuses connections (a
// port freed by a stopped server could be handed to the next listener of this file, even this
// gateway's own, which answered the chat with its 404).
const stranded = await startGateway({ OLLAMA_BASE_URL: 'http://127.0.0.1:1' })
// A gateway whose only Ollama host never answers. It has a gateway of its own because the timeout
// sets the host aside until its next health check, which would fail the rows after it.
const silent = await startFakeOllama({ hang: true })
const waiting = await startGateway({ OLLAMA_BASE_URL: silent.url, UPSTREAM_TIMEOUT_MS: '300' })

afterAll(async () => {
  await Promise.all([gateway.stop(), stranded.stop(), waiting.stop()])
  fake.stop()
  silent.stop()
  imageServer.stop()
})
beforeEach(() => fake.reset())

type Call = { method?: string; body?: unknown; token?: string | null; headers?: Record<string, string>; via?: Gateway; signal?: AbortSignal }

/** A request as a client sends it, over the socket, to `via` (the main gateway unless told), with its user's API key unless told otherwise. */
function send(path: string, { method, body, via = gateway, token = via.user.apiKey, headers = {}, signal }: Call = {}) {
  const all: Record<string, string> = { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers }
  if (token) all.authorization = `Bearer ${token}`
  return fetch(`${via.url}${path}`, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers: all,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  })
}

let asked = 0
/** A chat request with a question of its own, so that no row is answered from another row's cached reply. */
const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'llama3.2',
  messages: [{ role: 'user', content: `Question ${++asked}` }],
  ...extra,
})
const chat = (extra: Record<string, unknown> = {}, call: Call = {}) => send('/v1/chat/completions', { body: chatBody(extra), ...call })

const weatherTool = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}

/** The first answer past the user's per-minute limit on the model list. */
async function pastRateLimit(): Promise<Response> {
  const greedy = await seedUser(gateway.rt)
  for (let call = 0; call <= gateway.rt.config.rateLimits.models; call++) {
    const res = await send('/v1/models', { token: greedy.apiKey })
    if (res.status === 429) return res
    await res.body?.cancel()
  }
  throw new Error('the rate limit never answered 429')
}

/** A request past the per-user cap on requests in progress: the cap's worth of chats held by a silent Ollama, then one more. */
async function pastConcurrencyLimit(): Promise<Response> {
  const busy = await seedUser(gateway.rt)
  const limit = gateway.rt.config.maxConcurrentRequests
  const cancel = new AbortController()
  const held = Array.from({ length: limit }, () => chat({}, { token: busy.apiKey, signal: cancel.signal }).catch(() => undefined))
  for (let waits = 0; fake.chats.length < limit; waits++) {
    if (waits > 1000) throw new Error(`Ollama received ${fake.chats.length} of the ${limit} chats meant to fill the cap`)
    await Bun.sleep(5)
  }
  const refused = await chat({}, { token: busy.apiKey })
  cancel.abort()
  await Promise.all(held)
  return refused
}

/** The second answer to the same question: the first is kept in the response cache. */
async function replayed(first: Record<string, unknown>, second: Record<string, unknown>): Promise<Response> {
  const body = chatBody(first)
  await (await send('/v1/chat/completions', { body })).text()
  return send('/v1/chat/completions', { body: { ...body, ...second } })
}

/**
 * What the answer carries: a JSON body as one payload; a text/event-stream as the payload of each
 * event (`[DONE]` aside), each checked against `schema`, except `event: error`, which is OpenAI's
 * error envelope.
 */
async function conformingPayloads(res: Response, schema: string): Promise<unknown[]> {
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return [expectConforms(schema, await res.json())]
  const events = parseSse(await res.text())
  // An image stream ends with its last image, as OpenAI's does; its progress events are ours (documented in the README).
  if (schema !== 'ImageGenStreamEvent') expect(events.at(-1)?.data).toBe('[DONE]')
  for (const event of events.filter((event) => event.data !== '[DONE]' && event.event !== 'image_generation.progress')) {
    const payload = JSON.parse(event.data)
    expectConforms(event.event === 'error' ? 'ErrorResponse' : schema, schema === 'CreateCompletionResponse' ? asWholeCompletion(payload) : payload)
  }
  return chunksOf(events)
}

/**
 * A text completion chunk as the schema can judge it. OpenAI's schema has one object for the
 * reply and its chunks, and types `finish_reason` as a string, while OpenAI's own stream (as
 * Ollama's and vLLM's) sends null until the last chunk (openai/openai-openapi#100): a gap in the
 * spec, not in the answer. Only that null is filled in; everything else is checked as sent.
 */
function asWholeCompletion(chunk: { choices?: { finish_reason: string | null }[] }) {
  return { ...chunk, choices: chunk.choices?.map((choice) => (choice.finish_reason === null ? { ...choice, finish_reason: 'stop' } : choice)) }
}

type Row = {
  /** What kind of answer, in a few words. */
  what: string
  /** OpenAI's schema of the answer (of each event, for a stream). */
  schema: string
  status: number
  /** Fake Ollama's behaviour for this answer. */
  knobs?: Partial<Knobs>
  ask: () => Promise<Response>
  /** That the answer is the kind the row says (a row that checked a plain reply as "tool calls" would prove nothing). */
  is: (payloads: any[], res: Response) => void
}

const last = (payloads: any[]) => payloads.at(-1)
const firstChoice = (payloads: any[]) => payloads[0].choices[0]
/** A stream's content, its deltas put together. */
const text = (chunks: any[]) => chunks.map((chunk) => chunk.choices?.[0]?.delta.content ?? '').join('')

/** One row per kind of /v1 answer. A new endpoint adds its answers here: its request, OpenAI's schema, and what makes it that kind. */
const ANSWERS: Row[] = [
  // Chat completions, whole.
  { what: 'chat completion', schema: 'CreateChatCompletionResponse', status: 200, ask: () => chat(),
    is: (p) => expect(firstChoice(p).message.content).toBe('tok0 tok1 tok2 tok3 tok4 ') },
  { what: 'chat completion calling tools', schema: 'CreateChatCompletionResponse', status: 200,
    knobs: { toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }, { name: 'get_weather', arguments: { city: 'Rome' } }] },
    ask: () => chat({ tools: [weatherTool] }),
    is: (p) => expect([firstChoice(p).finish_reason, firstChoice(p).message.content, firstChoice(p).message.tool_calls.length]).toEqual(['tool_calls', null, 2]) },
  { what: 'chat completion with reasoning', schema: 'CreateChatCompletionResponse', status: 200,
    ask: () => chat({ model: 'hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M', reasoning_effort: 'high' }),
    is: (p) => expect(firstChoice(p).message.reasoning).toBe('The user greets me.') },
  { what: 'chat completion cut by max_tokens', schema: 'CreateChatCompletionResponse', status: 200, ask: () => chat({ max_tokens: 2 }),
    is: (p) => expect([firstChoice(p).finish_reason, p[0].usage.completion_tokens]).toEqual(['length', 2]) },
  { what: 'chat completion kept in a conversation', schema: 'CreateChatCompletionResponse', status: 200, ask: () => chat({ conversationId: 'new' }),
    is: (p, res) => expect(p[0].conversationId).toBe(res.headers.get('x-conversation-id')!) },
  { what: 'chat completion replayed from the cache', schema: 'CreateChatCompletionResponse', status: 200, ask: () => replayed({}, {}),
    is: (p, res) => expect([res.headers.get('x-cache'), firstChoice(p).message.content]).toEqual(['HIT', 'tok0 tok1 tok2 tok3 tok4 ']) },

  // Chat completions, streamed: every chunk.
  { what: 'chat stream', schema: 'CreateChatCompletionStreamResponse', status: 200, ask: () => chat({ stream: true }),
    is: (p) => expect([text(p), last(p).choices[0].finish_reason, last(p).usage.completion_tokens]).toEqual(['tok0 tok1 tok2 tok3 tok4 ', 'stop', 5]) },
  { what: 'chat stream with stream_options.include_usage', schema: 'CreateChatCompletionStreamResponse', status: 200,
    ask: () => chat({ stream: true, stream_options: { include_usage: true } }),
    is: (p) => expect([last(p).choices, last(p).usage.total_tokens > 5, p.at(-2).usage]).toEqual([[], true, null]) },
  { what: 'chat stream calling tools', schema: 'CreateChatCompletionStreamResponse', status: 200,
    knobs: { toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] },
    ask: () => chat({ stream: true, tools: [weatherTool] }),
    is: (p) => expect([p.find((chunk) => chunk.choices[0].delta.tool_calls)?.choices[0].delta.tool_calls[0].function.arguments, last(p).choices[0].finish_reason]).toEqual(['{"city":"Oslo"}', 'tool_calls']) },
  { what: 'chat stream with reasoning', schema: 'CreateChatCompletionStreamResponse', status: 200,
    ask: () => chat({ stream: true, reasoning_effort: 'low', stream_options: { include_usage: true } }),
    is: (p) => expect(p.some((chunk) => chunk.choices[0]?.delta.reasoning === 'The user greets me.')).toBe(true) },
  { what: 'chat stream cut by max_tokens', schema: 'CreateChatCompletionStreamResponse', status: 200, ask: () => chat({ stream: true, max_tokens: 1 }),
    is: (p) => expect(last(p).choices[0].finish_reason).toBe('length') },
  { what: 'chat stream kept in a conversation', schema: 'CreateChatCompletionStreamResponse', status: 200, ask: () => chat({ stream: true, conversationId: 'new' }),
    is: (p, res) => expect(p[0].conversationId).toBe(res.headers.get('x-conversation-id')!) },
  { what: 'chat stream replayed from the cache', schema: 'CreateChatCompletionStreamResponse', status: 200, ask: () => replayed({}, { stream: true }),
    is: (p, res) => expect([res.headers.get('x-cache'), last(p).choices[0].finish_reason]).toEqual(['HIT', 'stop']) },
  { what: 'chat stream that Ollama ends with an error mid-reply', schema: 'CreateChatCompletionStreamResponse', status: 200,
    knobs: { failAfter: 2, failWith: 'error' }, ask: () => chat({ stream: true }),
    is: (p) => expect([text(p), last(p).error.code]).toEqual(['tok0 tok1 ', 'upstream_died']) },

  // Embeddings (base64 is decoded first: OpenAI's schema types `embedding` as numbers only, and
  // says a base64 string is what `encoding_format: "base64"` returns).
  { what: 'embeddings', schema: 'CreateEmbeddingResponse', status: 200,
    ask: () => send('/v1/embeddings', { body: { model: 'nomic-embed-text', input: ['a', 'b'], encoding_format: 'float' } }),
    is: (p) => expect([p[0].data.length, p[0].data[1].index, p[0].usage.prompt_tokens > 0]).toEqual([2, 1, true]) },
  { what: 'embeddings as base64', schema: 'CreateEmbeddingResponse', status: 200,
    ask: async () => {
      const res = await send('/v1/embeddings', { body: { model: 'nomic-embed-text', input: 'a', encoding_format: 'base64' } })
      const answer = (await res.json()) as { data: { embedding: string | number[] }[] }
      for (const entry of answer.data) entry.embedding = [...new Float32Array(Buffer.from(entry.embedding as string, 'base64').buffer.slice(0))]
      return Response.json(answer, { status: res.status })
    },
    is: (p) => expect(p[0].data[0].embedding.length).toBeGreaterThan(0) },
  { what: 'embeddings of token ids', schema: 'ErrorResponse', status: 400,
    ask: () => send('/v1/embeddings', { body: { model: 'nomic-embed-text', input: [1, 2, 3] } }), is: (p) => expect(p[0].error.param).toBe('input') },

  // Text completions.
  { what: 'text completion', schema: 'CreateCompletionResponse', status: 200,
    ask: () => send('/v1/completions', { body: { model: 'llama3.2', prompt: `Once ${++asked}`, suffix: ' the end.', max_tokens: 3, logprobs: 2 } }),
    is: (p) => expect([p[0].object, p[0].choices[0].text, p[0].choices[0].finish_reason, p[0].choices[0].logprobs.tokens.length]).toEqual(['text_completion', 'tok0 tok1 tok2 ', 'length', 3]) },
  { what: 'text completion stream', schema: 'CreateCompletionResponse', status: 200,
    ask: () => send('/v1/completions', { body: { model: 'llama3.2', prompt: `Once ${++asked}`, stream: true, stream_options: { include_usage: true } } }),
    is: (p) => expect([p.map((c) => c.choices[0]?.text ?? '').join(''), last(p).usage.completion_tokens]).toEqual(['tok0 tok1 tok2 tok3 tok4 ', 5]) },
  { what: 'text completion with echo', schema: 'ErrorResponse', status: 400,
    ask: () => send('/v1/completions', { body: { model: 'llama3.2', prompt: 'x', echo: true } }), is: (p) => expect(p[0].error.param).toBe('echo') },

  // Images.
  { what: 'images', schema: 'ImagesResponse', status: 200, ask: () => send('/v1/images/generations', { body: { model: 'sd-turbo', prompt: 'a dot', n: 2 } }),
    is: (p) => expect(p[0].data).toHaveLength(2) },
  { what: 'image stream', schema: 'ImageGenStreamEvent', status: 200, ask: () => send('/v1/images/generations', { body: { model: 'sd-turbo', prompt: 'a dot', stream: true } }),
    is: (p) => expect(p.map((event) => event.type)).toEqual(['image_generation.completed']) },
  { what: 'images as a url', schema: 'ErrorResponse', status: 400, ask: () => send('/v1/images/generations', { body: { model: 'sd-turbo', prompt: 'a dot', response_format: 'url' } }),
    is: (p) => expect(p[0].error.param).toBe('response_format') },
  { what: 'images from a text model', schema: 'ErrorResponse', status: 400, ask: () => send('/v1/images/generations', { body: { model: 'llama3.2', prompt: 'a dot' } }),
    is: (p) => expect(p[0].error.code).toBe('model_not_supported') },

  // Models.
  { what: 'model list', schema: 'ListModelsResponse', status: 200, ask: () => send('/v1/models'),
    is: (p) => expect(p[0].data.map((model: { id: string }) => model.id)).toEqual(['hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M', 'llama3.2:latest', 'llava:7b', 'nomic-embed-text:latest', 'sd-turbo']) },
  { what: 'model with ":" in its id', schema: 'Model', status: 200, ask: () => send('/v1/models/llava:7b'), is: (p) => expect(p[0].id).toBe('llava:7b') },
  { what: 'model by its bare name', schema: 'Model', status: 200, ask: () => send('/v1/models/llama3.2'), is: (p) => expect(p[0].id).toBe('llama3.2:latest') },
  { what: 'model with "/" in its id, sent as is', schema: 'Model', status: 200, ask: () => send('/v1/models/hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M'),
    is: (p) => expect(p[0].id).toBe('hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M') },
  { what: 'model with "/" in its id, percent-encoded', schema: 'Model', status: 200,
    ask: () => send(`/v1/models/${encodeURIComponent('hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M')}`), is: (p) => expect(p[0].id).toBe('hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M') },

  // Errors: OpenAI's envelope for every status.
  { what: 'invalid field', schema: 'ErrorResponse', status: 400, ask: () => chat({ temperature: 9 }), is: (p) => expect(p[0].error.param).toBe('temperature') },
  { what: 'body that is not JSON', schema: 'ErrorResponse', status: 400, ask: () => send('/v1/chat/completions', { body: '{"model":' }),
    is: (p) => expect(p[0].error.code).toBe('invalid_json') },
  { what: 'model id with broken percent-encoding', schema: 'ErrorResponse', status: 400, ask: () => send('/v1/models/llava%E0%A4%A'),
    is: (p) => expect(p[0].error.type).toBe('invalid_request_error') },
  { what: 'missing credentials', schema: 'ErrorResponse', status: 401, ask: () => send('/v1/models', { token: null }), is: (p) => expect(p[0].error.type).toBe('authentication_error') },
  { what: 'unknown API key', schema: 'ErrorResponse', status: 401, ask: () => chat({}, { token: 'sk-studio-not-a-key' }), is: (p) => expect(p[0].error.type).toBe('authentication_error') },
  { what: 'chat with a model no host has', schema: 'ErrorResponse', status: 404, ask: () => chat({ model: 'missing' }), is: (p) => expect(p[0].error.code).toBe('model_not_found') },
  { what: 'model no host has', schema: 'ErrorResponse', status: 404, ask: () => send('/v1/models/hf.co/nobody/nothing:Q8_0'), is: (p) => expect(p[0].error.code).toBe('model_not_found') },
  { what: 'unknown /v1 endpoint', schema: 'ErrorResponse', status: 404, ask: () => send('/v1/engines'), is: (p) => expect(p[0].error.code).toBe('not_found') },
  { what: 'wrong method', schema: 'ErrorResponse', status: 405, ask: () => send('/v1/models', { method: 'DELETE' }), is: (p) => expect(p[0].error.code).toBe('method_not_allowed') },
  { what: 'chat socket asked for without an upgrade', schema: 'ErrorResponse', status: 426, ask: () => send('/v1/chat/ws'),
    is: (p) => expect(p[0].error.code).toBe('upgrade_required') },
  { what: 'body over MAX_BODY_BYTES', schema: 'ErrorResponse', status: 413,
    ask: () => send('/v1/chat/completions', { body: JSON.stringify(chatBody({ messages: [{ role: 'user', content: 'x'.repeat(gateway.rt.config.maxBodyBytes) }] })) }),
    is: (p) => expect(p[0].error.type).toBe('invalid_request_error') },
  { what: 'body that is not JSON by its content type', schema: 'ErrorResponse', status: 415,
    ask: () => send('/v1/chat/completions', { body: JSON.stringify(chatBody()), headers: { 'content-type': 'text/plain' } }),
    is: (p) => expect(p[0].error.type).toBe('invalid_request_error') },
  { what: 'too many requests in progress', schema: 'ErrorResponse', status: 429, knobs: { hang: true }, ask: pastConcurrencyLimit,
    is: (p) => expect(p[0].error.message).toContain('in progress') },
  { what: 'rate limit', schema: 'ErrorResponse', status: 429, ask: pastRateLimit, is: (p, res) => expect([p[0].error.type, Number(res.headers.get('retry-after')) > 0]).toEqual(['rate_limit_exceeded', true]) },
  { what: 'Ollama failing', schema: 'ErrorResponse', status: 502, knobs: { chatStatus: 500 }, ask: () => chat(), is: (p) => expect(p[0].error.code).toBe('upstream_error') },
  { what: 'chat with no host reachable', schema: 'ErrorResponse', status: 503, ask: () => chat({}, { via: stranded }),
    is: (p) => expect(p[0].error.code).toBe('upstream_unreachable') },
  { what: 'model list with no host reachable', schema: 'ErrorResponse', status: 503, ask: () => send('/v1/models', { via: stranded }),
    is: (p) => expect(p[0].error.code).toBe('upstream_unreachable') },
  { what: 'Ollama silent past the upstream timeout', schema: 'ErrorResponse', status: 504, ask: () => chat({}, { via: waiting }),
    is: (p) => expect(p[0].error.code).toBe('upstream_timeout') },
]

/** Per schema, the fields the gateway sends that OpenAI's schema does not define (array indexes as `*`), gathered from every answer checked. */
const seen = new Map<string, Set<string>>()
function noteExtensions(schema: string, payload: unknown) {
  const fields = seen.get(schema) ?? new Set<string>()
  for (const field of undeclaredFields(schema, payload)) fields.add(field.replace(/\.\d+(?=\.|$)/g, '.*'))
  seen.set(schema, fields)
}

describe("every /v1 answer conforms to OpenAI's schema", () => {
  test.each(ANSWERS.map((row) => [row.what, row.schema, row] as const))('%s: %s', async (_, schema, row) => {
    if (row.knobs) fake.set(row.knobs)
    const res = await row.ask()
    const payloads = await conformingPayloads(res, schema)
    expect(res.status).toBe(row.status)
    row.is(payloads, res)
    for (const payload of payloads) noteExtensions('error' in (payload as object) ? 'ErrorResponse' : schema, payload)
  })
})

type SocketMessage = { type: string; id?: string; chunk?: any; usage?: any; error?: any }

/** Sends each request on one chat socket (a `cancel` right after those marked so) and returns every message, once each request has ended. */
async function overSocket(requests: { id: string; request: object; cancel?: boolean }[]): Promise<SocketMessage[]> {
  const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/v1/chat/ws`, ['ai-studio', `bearer.${gateway.user.apiKey}`])
  const messages: SocketMessage[] = []
  const ended = new Set<string>()
  const allEnded = new Promise<void>((resolve, reject) => {
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as SocketMessage
      messages.push(message)
      if (message.id !== undefined && (message.type === 'done' || message.type === 'error')) ended.add(message.id)
      if (ended.size === requests.length) resolve()
    }
    ws.onclose = (event) => reject(new Error(`the socket closed (${event.code} ${event.reason}) before every request ended`))
  })
  await new Promise((resolve) => (ws.onopen = resolve))
  for (const { id, request, cancel } of requests) {
    ws.send(JSON.stringify({ type: 'chat', id, request }))
    if (cancel) ws.send(JSON.stringify({ type: 'cancel', id }))
  }
  await allEnded
  ws.close()
  return messages
}

describe('the chat WebSocket carries OpenAI\'s objects', () => {
  test('chunk messages hold chat.completion.chunk objects, done messages a usage, error messages an error object', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }], chunkDelayMs: 5 })
    const messages = await overSocket([
      { id: 'plain', request: chatBody() },
      { id: 'tools', request: chatBody({ tools: [weatherTool], stream_options: { include_usage: true } }) },
      { id: 'reasoning', request: chatBody({ reasoning_effort: 'medium', conversationId: 'new' }) },
      { id: 'missing', request: chatBody({ model: 'missing' }) },
      { id: 'invalid', request: chatBody({ temperature: 9 }) },
      { id: 'cancelled', request: chatBody(), cancel: true },
    ])
    const schemaOf: Record<string, [string, string]> = {
      chunk: ['chunk', 'CreateChatCompletionStreamResponse'],
      done: ['usage', 'CompletionUsage'],
      error: ['error', 'Error'],
    }
    for (const message of messages) {
      const [field, schema] = schemaOf[message.type]!
      noteExtensions(schema, expectConforms(schema, message[field as keyof SocketMessage]))
    }
    const ending = (id: string) => messages.find((message) => message.id === id && message.type !== 'chunk')!
    expect(['plain', 'tools', 'reasoning'].map((id) => ending(id).type)).toEqual(['done', 'done', 'done'])
    expect(['missing', 'invalid', 'cancelled'].map((id) => ending(id).error.code)).toEqual(['model_not_found', 'invalid_value', 'request_cancelled'])
    const chunksFor = (id: string) => messages.filter((message) => message.id === id && message.type === 'chunk').map((message) => message.chunk)
    expect(chunksFor('tools').some((chunk) => chunk.choices[0]?.delta.tool_calls)).toBe(true)
    expect(chunksFor('reasoning').some((chunk) => chunk.choices[0]?.delta.reasoning)).toBe(true)
    expect(chunksFor('reasoning')[0].conversationId).toEqual(expect.any(String))
  })
})

/**
 * The gateway's own fields beside OpenAI's: camelCase twins and `reasoning` for the studio
 * frontend, `conversationId` for kept conversations, the model's details. None of these schemas
 * forbids fields it does not define (no `additionalProperties: false`), so they conform; a field
 * added by mistake shows up here.
 */
const EXTENSIONS: Record<string, string[]> = {
  CreateChatCompletionResponse: [
    'choices.*.finishReason',
    'choices.*.message.reasoning',
    'conversationId',
    'usage.completionTokens',
    'usage.promptTokens',
    'usage.totalTokens',
  ],
  CreateChatCompletionStreamResponse: [
    'choices.*.delta.reasoning',
    'choices.*.finishReason',
    'conversationId',
    'usage.completionTokens',
    'usage.promptTokens',
    'usage.totalTokens',
  ],
  ListModelsResponse: ['data.*.capabilities', 'data.*.contextLength', 'data.*.displayLabel', 'data.*.metadata'],
  Model: ['capabilities', 'contextLength', 'displayLabel', 'metadata'],
  ErrorResponse: [],
  ImagesResponse: [],
  CreateCompletionResponse: [],
  CreateEmbeddingResponse: [],
  ImageGenStreamEvent: [],
  // The chat socket's `done` usage and `error` object.
  CompletionUsage: ['completionTokens', 'promptTokens', 'totalTokens'],
  Error: [],
}

test('the fields the gateway adds to OpenAI\'s answers are the known ones, and OpenAI\'s schemas allow them', () => {
  expect(Object.fromEntries([...seen].map(([schema, fields]) => [schema, [...fields].sort()]))).toEqual(EXTENSIONS)
})

describe('the schema validator itself', () => {
  // Without these, a validator that accepted anything would pass every row above.
  test('refuses answers OpenAI would not give', () => {
    const model = { id: 'llava:7b', object: 'model', created: 1751371200, owned_by: 'library' }
    expect(expectConforms('Model', model)).toBe(model)
    expect(() => expectConforms('Model', { ...model, owned_by: undefined })).toThrow("must have required property 'owned_by'")
    expect(() => expectConforms('Model', { ...model, created: 1.5 })).toThrow('/created: must be integer')
    expect(() => expectConforms('Model', { ...model, created: -1 })).toThrow('must match format "unixtime"')
    expect(() => expectConforms('ErrorResponse', { error: { message: 'x', type: 'server_error', code: null } })).toThrow("must have required property 'param'")
    const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'done' }] }
    expect(() => expectConforms('CreateChatCompletionStreamResponse', chunk)).toThrow('/choices/0/finish_reason')
  })

  test("`nullable` is read as OpenAI means it: null or the schema, never anything else", () => {
    const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: null, logprobs: null }], usage: null }
    expectConforms('CreateChatCompletionStreamResponse', chunk)
    expect(() => expectConforms('CreateChatCompletionStreamResponse', { ...chunk, usage: { prompt_tokens: 1 } })).toThrow("must have required property 'completion_tokens'")
    // A `$ref` with `nullable` beside it and no `type` (Ajv refuses to compile it as written).
    expect(() => expectConforms('StopConfiguration', 7)).toThrow()
    expectConforms('StopConfiguration', null)
  })

  test('CompoundFilter nests itself ($recursiveRef rewritten as a $ref)', () => {
    const leaf = { type: 'eq', key: 'lang', value: 'en' }
    expectConforms('CompoundFilter', { type: 'and', filters: [leaf, { type: 'or', filters: [leaf, leaf] }] })
    expect(() => expectConforms('CompoundFilter', { type: 'and', filters: [{ type: 'or', filters: [{ type: 'eq', key: 'lang' }] }] })).toThrow()
    expect(() => expectConforms('CompoundFilter', { type: 'and', filters: [], extra: true })).toThrow('must NOT have additional properties')
  })

  test('an unknown schema name is an error, not a pass', () => {
    expect(() => validatorOf('CreateChatCompletionReply')).toThrow('no CreateChatCompletionReply')
  })
})

/**
 * Routes the server answers that /swagger/json leaves out on purpose, each with the reason.
 * A route listed here that the server stops answering, or that the document starts describing,
 * fails the test below, so the list cannot go stale.
 */
const UNDOCUMENTED: Record<string, string> = {
  'OPTIONS /': "CORS preflights (@elysiajs/cors), answered on every path; the generator leaves OPTIONS out",
  'OPTIONS /*': 'CORS preflights, as above',
  'GET /': 'a redirect to the admin UI (src/admin/root-redirect.ts)',
  'GET /swagger': 'the docs page itself',
  'GET /swagger/json': 'the OpenAPI document itself',
  'GET /swagger/assets/:name': "the docs page's JavaScript and CSS",
  'GET /admin': "the admin UI's page, not an API",
  'GET /admin/*': "the admin UI's page under its client-side routes",
  'GET /admin/assets/:name': "the admin UI's static files",
}

/** Routes described under another path, each mapped to the operation that describes it. */
const DOCUMENTED_AS: Record<string, string> = {
  // OpenAPI's path parameters span one segment; an id with "/" sent as is spans several.
  'GET /v1/models/*': 'GET /v1/models/{id}',
}

/** Elysia's `/a/:id` as OpenAPI's `/a/{id}`. */
const asTemplate = (path: string) => path.replace(/:(\w+)/g, '{$1}')

describe('/swagger/json', () => {
  const routes = () => gateway.app.routes.map((route) => `${route.method.toUpperCase()} ${route.path}`)
  const operations = async () => {
    const document = (await (await send('/swagger/json')).json()) as { paths: Record<string, Record<string, { description?: string }>> }
    return new Map<string, { description?: string }>(
      Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as const),
      ),
    )
  }

  test('describes every route the server answers, but for the deliberate exceptions', async () => {
    const documented = await operations()
    const served = routes()
    const missing = served.filter((route) => !(route in UNDOCUMENTED) && !(route in DOCUMENTED_AS) && !documented.has(asTemplate(route)))
    expect(missing).toEqual([])
    // The exceptions are still routes, and still left out.
    for (const route of [...Object.keys(UNDOCUMENTED), ...Object.keys(DOCUMENTED_AS)]) {
      expect(served).toContain(route)
      expect(documented.has(asTemplate(route))).toBe(false)
    }
    // Nothing is described that the server does not answer.
    const templates = new Set(served.map(asTemplate))
    expect([...documented.keys()].filter((operation) => !templates.has(operation))).toEqual([])
  })

  test('GET /v1/models/{id} says that ids with "/" are taken percent-encoded or as is, and both forms answer', async () => {
    const documented = await operations()
    for (const operation of Object.values(DOCUMENTED_AS)) expect(documented.has(operation)).toBe(true)
    const description = documented.get('GET /v1/models/{id}')!.description!
    expect(description).toContain('%2F')
    expect(description).toContain('as is')
    const id = 'hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M'
    for (const path of [`/v1/models/${encodeURIComponent(id)}`, `/v1/models/${id}`, `/v1/models/${id}/`])
      expect([path, await (await send(path)).json()]).toEqual([path, expect.objectContaining({ id })])
  })
})
