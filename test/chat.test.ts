// /v1/chat/completions through app.handle against the fake Ollama: the OpenAI objects and
// their camelCase twins, the request mapping Ollama receives, faults, bad input and the
// facts recorded for the request log.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { factsOf } from '../src/telemetry/facts'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { freePort } from './support/process'
import { chunksOf, parseSse } from './support/sse'
import { logRows, settle } from './support/log'
import { seedUser } from './support/users'

const fake = await startFakeOllama()
const { rt, app, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url, UPSTREAM_TIMEOUT_MS: '400', RATE_LIMIT_CHAT: '0' })
const user = await seedUser(rt)
afterAll(async () => {
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }] }

/** JSON text that JSON.stringify cannot write (it overflows the stack on very deep values). */
class RawJson {
  constructor(readonly text: string) {}
}

/** Sends a chat request and returns the response with the facts the handler recorded. */
async function chat(body: unknown, token = user.apiKey) {
  const text = body instanceof RawJson ? body.text : JSON.stringify(body)
  const request = new Request('http://localhost/v1/chat/completions', {
    method: 'POST',
    body: text,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), authorization: `Bearer ${token}` },
  })
  const res = await app.handle(request)
  return { res, facts: factsOf(request) }
}

async function stream(body: object) {
  const { res, facts } = await chat({ ...body, stream: true })
  const events = parseSse(await res.text())
  return { res, facts, events, chunks: chunksOf(events) }
}

const lastSent = () => fake.chats.at(-1)!.body

describe('non-streaming', () => {
  test('an OpenAI chat.completion with the camelCase twins; stream defaults to false', async () => {
    const { res } = await chat(hello)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/json')
    const body = await res.json()
    expect(body).toEqual({
      id: expect.stringMatching(/^chatcmpl-[\w-]{16,}$/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'llama3.2',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'tok0 tok1 tok2 tok3 tok4 ', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
          finishReason: 'stop',
        },
      ],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: 5, total_tokens: expect.any(Number), promptTokens: expect.any(Number), completionTokens: 5, totalTokens: expect.any(Number) },
    })
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + 5)
    expect(body.usage.promptTokens).toBe(body.usage.prompt_tokens)
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(5)
  })

  test('max_tokens → num_predict, and a cut reply finishes with length', async () => {
    const { res } = await chat({ ...hello, max_tokens: 2 })
    const body = await res.json()
    expect(lastSent().options.num_predict).toBe(2)
    expect(body.choices[0].message.content).toBe('tok0 tok1 ')
    expect(body.choices[0].finish_reason).toBe('length')
    expect(body.choices[0].finishReason).toBe('length')
  })

  test('tool calls come back in OpenAI form with finish_reason tool_calls', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris', days: 2 } }] })
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]
    const { res } = await chat({ ...hello, tools })
    const body = await res.json()
    expect(body.choices[0].finish_reason).toBe('tool_calls')
    expect(body.choices[0].message.content).toBeNull()
    expect(body.choices[0].message.tool_calls).toEqual([
      { id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":2}' } },
    ])
    expect(lastSent().tools).toEqual(tools)
  })

  test('facts: model, host, completion id, Ollama token counts, timings, outcome', async () => {
    const { res, facts } = await chat(hello)
    const body = await res.json()
    expect(facts).toMatchObject({
      model: 'llama3.2',
      upstream: fake.url,
      completionId: body.id,
      promptTokens: body.usage.prompt_tokens,
      completionTokens: 5,
      finishReason: 'stop',
      outcome: 'ok',
      userId: user.userId,
    })
    expect(facts.ttftMs).toBeGreaterThan(0)
    expect(facts.totalMs).toBeGreaterThanOrEqual(facts.ttftMs!)
    expect(facts.streaming).toBeUndefined()
  })
})

describe('streaming', () => {
  test('SSE headers, chunk objects with twins, usage on the finish chunk, then [DONE]', async () => {
    const { res, events, chunks, facts } = await stream(hello)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/event-stream')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    expect(events.at(-1)!.data).toBe('[DONE]')
    expect(chunks).toHaveLength(6)
    const [first, ...rest] = chunks
    expect(first).toEqual({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion.chunk',
      created: expect.any(Number),
      model: 'llama3.2',
      choices: [{ index: 0, delta: { role: 'assistant', content: 'tok0 ' }, logprobs: null, finish_reason: null, finishReason: null }],
    })
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1)
    expect(chunks.map((chunk) => chunk.choices[0].delta.content ?? '').join('')).toBe('tok0 tok1 tok2 tok3 tok4 ')
    const last = rest.at(-1)
    expect(last.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop', finishReason: 'stop' })
    expect(last.usage).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: 5,
      total_tokens: expect.any(Number),
      promptTokens: expect.any(Number),
      completionTokens: 5,
      totalTokens: expect.any(Number),
    })
    expect(rest.slice(0, -1).every((chunk) => !('usage' in chunk))).toBe(true)
    expect(facts).toMatchObject({ streaming: true, ended: true, outcome: 'ok', completionTokens: 5, completionId: first.id, finishReason: 'stop' })
  })

  test('messages cut across network reads, even inside a multi-byte character, arrive whole', async () => {
    fake.set({ fragment: true, tokens: ['héllo ', '世界 ', '🙂 ', 'done'] })
    const { chunks, facts } = await stream(hello)
    expect(chunks.map((chunk) => chunk.choices[0].delta.content ?? '').join('')).toBe('héllo 世界 🙂 done')
    expect(facts).toMatchObject({ outcome: 'ok', completionTokens: 4 })
  })

  test('stream_options.include_usage: usage null on each chunk, then a usage-only chunk', async () => {
    const { chunks } = await stream({ ...hello, stream_options: { include_usage: true } })
    const usageChunk = chunks.at(-1)
    expect(usageChunk.choices).toEqual([])
    expect(usageChunk.usage).toMatchObject({ completion_tokens: 5, completionTokens: 5 })
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true)
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop')
  })

  test('tool calls are streamed as delta.tool_calls with an index', async () => {
    fake.set({ toolCalls: [{ name: 'a', arguments: { x: 1 } }, { name: 'b', arguments: {} }] })
    const { chunks } = await stream({ ...hello, tools: [{ type: 'function', function: { name: 'a' } }, { type: 'function', function: { name: 'b' } }] })
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta?.tool_calls ?? [])
    expect(calls).toEqual([
      { index: 0, id: expect.any(String), type: 'function', function: { name: 'a', arguments: '{"x":1}' } },
      { index: 1, id: expect.any(String), type: 'function', function: { name: 'b', arguments: '{}' } },
    ])
    expect(chunks.at(-1).choices[0].finish_reason).toBe('tool_calls')
  })

  test('reasoning_effort asks Ollama to think; its thinking streams as delta.reasoning', async () => {
    fake.set({ thinking: 'Let me see.' })
    const { chunks } = await stream({ ...hello, reasoning_effort: 'high' })
    expect(lastSent().think).toBe('high')
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '', reasoning: 'Let me see.' })
  })
})

describe('token counts that are not whole numbers', () => {
  test('usage comes out whole, and the request log and the dashboard stay sound', async () => {
    for (const [sent, expected] of [[2.5, 3], ['n/a', 0], [-4, 0], [null, 0]] as const) {
      fake.set({ finalOverrides: { eval_count: sent } })
      const { res } = await chat(hello)
      expect((await res.json()).usage.completion_tokens).toBe(expected)
    }
    await settle(rt)
    const rows = (await logRows(rt, (row) => row.path === '/v1/chat/completions')).slice(-4).reverse()
    expect(rows.map((row) => row.completionTokens)).toEqual([0, 0, 0, 3])
    const dashboard = await call('/api/dashboard/?range=24h', { token: user.accessToken })
    expect(dashboard.status).toBe(200)
    expect(Number.isInteger((await dashboard.json()).summary.totalTokens)).toBe(true)
  })
})

describe('request mapping', () => {
  test('sampling options, stop, seed, penalties', async () => {
    await chat({ ...hello, temperature: 0.2, top_p: 0.9, max_completion_tokens: 50, stop: 'END', seed: 7, presence_penalty: 0.5, frequency_penalty: -0.5 })
    expect(lastSent()).toMatchObject({
      model: 'llama3.2',
      stream: true,
      options: { temperature: 0.2, top_p: 0.9, num_predict: 50, stop: ['END'], seed: 7, presence_penalty: 0.5, frequency_penalty: -0.5 },
    })
  })

  test('null means "not set", as OpenAI clients send it', async () => {
    const { res } = await chat({ ...hello, temperature: null, max_tokens: null, stop: null, tools: null, stream: null })
    expect(res.status).toBe(200)
    expect(lastSent().options).toEqual({ num_predict: 32768 }) // MAX_OUTPUT_TOKENS, sent always
  })

  test('response_format json_object → "json", json_schema → the schema', async () => {
    await chat({ ...hello, response_format: { type: 'json_object' } })
    expect(lastSent().format).toBe('json')
    const schema = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] }
    await chat({ ...hello, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } })
    expect(lastSent().format).toEqual(schema)
  })

  test('roles, image data URLs, assistant tool calls and tool results', async () => {
    const png = Buffer.from('fake png bytes').toString('base64')
    await chat({
      model: 'llava:7b',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"zoom":2}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
      ],
    })
    expect(lastSent().messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is this?', images: [png] },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'look', arguments: { zoom: 2 } } }] },
      { role: 'tool', content: 'a cat', tool_name: 'look' },
    ])
  })

  test('an image whose base64 is also a file path is sent as it is, never read from disk', async () => {
    // ollama's Node entry reads any image string naming an existing file; the gateway uses its browser entry.
    const pathLike = '/etc//passwd'
    await chat({ model: 'llava:7b', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${pathLike}` } }] }] })
    expect(lastSent().messages[0].images).toEqual([pathLike])
  })

  test('tool_choice none sends no tools; a named function sends only that one', async () => {
    const tools = [{ type: 'function', function: { name: 'a' } }, { type: 'function', function: { name: 'b' } }]
    await chat({ ...hello, tools, tool_choice: 'none' })
    expect(lastSent().tools).toBeUndefined()
    await chat({ ...hello, tools, tool_choice: { type: 'function', function: { name: 'b' } } })
    expect(lastSent().tools).toEqual([tools[1]])
  })
})

/** {"a": {"a": … 1}} with `levels` objects. */
function deep(levels: number) {
  let value: unknown = 1
  for (let i = 0; i < levels; i++) value = { a: value }
  return value
}

describe('bad input → 400 naming the field', () => {
  const cases: [string, unknown, string][] = [
    ['empty messages', { model: 'llama3.2', messages: [] }, 'messages'],
    ['missing messages', { model: 'llama3.2' }, 'messages'],
    ['unknown role', { model: 'llama3.2', messages: [{ role: 'wizard', content: 'x' }] }, 'messages.0.role'],
    ['temperature above 2', { ...hello, temperature: 2.5 }, 'temperature'],
    ['temperature as a string', { ...hello, temperature: 'hot' }, 'temperature'],
    ['negative max_tokens', { ...hello, max_tokens: -1 }, 'max_tokens'],
    ['fractional max_tokens', { ...hello, max_tokens: 1.5 }, 'max_tokens'],
    ['max_tokens as a numeric string', { ...hello, max_tokens: '5' }, 'max_tokens'],
    ['model missing', { messages: hello.messages }, 'model'],
    ['model not a string', { ...hello, model: 42 }, 'model'],
    ['stream not a boolean', { ...hello, stream: 'yes' }, 'stream'],
    ['n above the cap', { ...hello, n: 9 }, 'n'],
    ['n above 1 with stream', { ...hello, n: 2, stream: true }, 'n'],
    ['top_p above 1', { ...hello, top_p: 1.5 }, 'top_p'],
    ['content of the wrong type', { model: 'llama3.2', messages: [{ role: 'user', content: 5 }] }, 'messages.0.content'],
    ['remote image URL', { model: 'llava:7b', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] }, 'messages.0.content.0.image_url.url'],
    ['base64 of the wrong length', { model: 'llava:7b', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,/etc/passwd' } }] }] }, 'messages.0.content.0.image_url.url'],
    ['an empty image', { model: 'llava:7b', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,' } }] }] }, 'messages.0.content.0.image_url.url'],
    ['tool arguments that are not JSON', { model: 'llama3.2', messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }] }] }, 'messages.0.tool_calls.0.function.arguments'],
    ['tool_choice naming an absent tool', { ...hello, tools: [{ type: 'function', function: { name: 'a' } }], tool_choice: { type: 'function', function: { name: 'zzz' } } }, 'tool_choice.function.name'],
    ['a body that is an array', [hello], 'body'],
    ['content that is an object', { model: 'llama3.2', messages: [{ role: 'user', content: { a: 1 } }] }, 'content must be a string'],
    ['tool parameters that are an array', { ...hello, tools: [{ type: 'function', function: { name: 'a', parameters: [1, 2] } }] }, 'tools.0.function.parameters'],
    ['a json_schema that is an array', { ...hello, response_format: { type: 'json_schema', json_schema: { name: 's', schema: [1] } } }, 'response_format.json_schema.schema'],
    ['tool parameters that are a string', { ...hello, tools: [{ type: 'function', function: { name: 'a', parameters: 'object' } }] }, 'tools.0.function.parameters'],
    ['max_tokens beyond any context', { ...hello, max_tokens: 1e300 }, 'max_tokens'],
    ['a seed past 2^53', { ...hello, seed: 1e300 }, 'seed'],
    ['tool_choice of the wrong shape', { ...hello, tool_choice: 'sometimes' }, "tool_choice must be 'none'"],
    ...['x', 5, true, [], [1]].map((value): [string, unknown, string] => [`stream_options ${JSON.stringify(value)}`, { ...hello, stream_options: value }, 'stream_options']),
    ['stream_options.include_usage not a boolean', { ...hello, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage'],
    ['stop of the wrong type', { ...hello, stop: 5 }, 'stop must be a string or an array'],
    ['response_format of the wrong shape', { ...hello, response_format: 'json' }, 'response_format must be'],
    ['reasoning_effort unknown', { ...hello, reasoning_effort: 'extreme' }, 'reasoning_effort must be one of'],
    ['a tool without its function', { ...hello, tools: [{ type: 'function' }] }, 'tools must be an array of'],
    ['tool-call arguments as an object', { model: 'llama3.2', messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: {} } }] }] }, 'arguments a JSON string'],
    ['tool parameters nested 40,000 deep', new RawJson(JSON.stringify({ ...hello, tools: [{ type: 'function', function: { name: 'a', parameters: 'DEEP' } }] }).replace('"DEEP"', '{"a":'.repeat(40_000) + '1' + '}'.repeat(40_000))), 'nests deeper than 100 levels'],
    ['a json_schema nested 65 deep', { ...hello, response_format: { type: 'json_schema', json_schema: { name: 's', schema: deep(65) } } }, 'response_format.json_schema.schema'],
    ['tool-call arguments nested 100 deep', { model: 'llama3.2', messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: JSON.stringify(deep(100)) } }] }] }, 'messages.0.tool_calls.0.function.arguments'],
  ]
  test.each(cases)('%s', async (_name, body, param) => {
    const { res, facts } = await chat(body)
    expect(res.status).toBe(400)
    const { error } = await res.json()
    expect(error.type).toBe('invalid_request_error')
    expect(error.message).toContain(param)
    if (param !== 'body' && !param.includes(' ')) expect(error.param).toBe(param)
    expect(fake.chats).toHaveLength(0)
    expect(facts.outcome === undefined || facts.outcome === 'client_error').toBe(true)
  })

  test('malformed JSON → 400', async () => {
    const res = await call('/v1/chat/completions', { method: 'POST', body: '{"model": "x", ', token: user.apiKey, headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(400)
    expect((await res.json()).error.message).toMatch(/JSON/)
  })

  test('a body over the size limit → 413 before it is read', async () => {
    const big = await testApp({ OLLAMA_BASE_URL: fake.url, MAX_BODY_BYTES: '2048' })
    const res = await big.call('/v1/chat/completions', { method: 'POST', token: user.apiKey, json: { ...hello, messages: [{ role: 'user', content: 'x'.repeat(5000) }] } })
    expect(res.status).toBe(413)
    expect((await res.json()).error.code).toBe('payload_too_large')
    await big.close()
  })

  test('no credentials → 401 in the OpenAI envelope', async () => {
    const res = await call('/v1/chat/completions', { method: 'POST', json: hello })
    expect(res.status).toBe(401)
    expect((await res.json()).error.type).toBe('authentication_error')
  })

  test('the path works with a trailing slash too', async () => {
    const res = await call('/v1/chat/completions/', { method: 'POST', token: user.apiKey, json: hello })
    expect(res.status).toBe(200)
    expect((await res.json()).object).toBe('chat.completion')
  })

  test('a JWT works as well as an API key', async () => {
    expect((await chat(hello, user.accessToken)).res.status).toBe(200)
  })
})

describe('faults', () => {
  test('unknown model → 404 model_not_found, naming the field but not echoing the name sent', async () => {
    const { res, facts } = await chat({ ...hello, model: 'no-such-model' })
    expect(res.status).toBe(404)
    const { error } = await res.json()
    expect(error).toEqual({ message: expect.any(String), type: 'not_found_error', param: 'model', code: 'model_not_found' })
    expect(error.message).not.toContain('no-such-model')
    expect(facts).toMatchObject({ errorType: 'model_not_found', outcome: 'client_error' })
    // Whatever a client types as a model stays out of the log and the dashboard's models.
    expect(facts.model).toBeUndefined()
  })

  test('a model pulled after the last check is found by an on-demand refresh', async () => {
    await Bun.sleep(1100)
    fake.set({ models: [...fake.knobs.models, { name: 'fresh:1b' }] })
    expect((await chat({ ...hello, model: 'fresh:1b' })).res.status).toBe(200)
  })

  test('no first byte within UPSTREAM_TIMEOUT_MS → 504, and the upstream request is aborted', async () => {
    fake.set({ hang: true })
    const started = performance.now()
    const { res, facts } = await chat({ ...hello, stream: true })
    expect(res.status).toBe(504)
    expect(performance.now() - started).toBeLessThan(2000)
    expect(await res.json()).toMatchObject({ error: { type: 'timeout', code: 'upstream_timeout', message: expect.stringContaining(fake.url) } })
    expect(facts).toMatchObject({ outcome: 'upstream_error', errorType: 'upstream_timeout' })
    await Bun.sleep(50)
    expect(fake.aborted).toHaveLength(1)
  })

  test('headers but no first message within the timeout → 504 too', async () => {
    fake.set({ firstChunkDelayMs: 5000 })
    const { res } = await chat(hello)
    expect(res.status).toBe(504)
    await Bun.sleep(50)
    expect(fake.aborted).toHaveLength(1)
  })

  test('gaps between messages shorter than the timeout are fine', async () => {
    fake.set({ chunkDelayMs: 150, chunks: 3 })
    const { chunks } = await stream(hello)
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop')
  })

  test('silent mid-stream for longer than the timeout → error event upstream_timeout, then [DONE]; upstream aborted', async () => {
    fake.set({ stallAfter: 2 })
    const { events, facts } = await stream(hello)
    expect(events.at(-2)!.event).toBe('error')
    expect(JSON.parse(events.at(-2)!.data).error).toMatchObject({ type: 'timeout', code: 'upstream_timeout' })
    expect(events.at(-1)!.data).toBe('[DONE]')
    expect(facts).toMatchObject({ outcome: 'upstream_error', errorType: 'upstream_timeout', completionTokens: 2 })
    await Bun.sleep(50)
    expect(fake.aborted).toMatchObject([{ chunksSent: 2 }])
  })

  test('upstream dies mid-stream (connection dropped) → the content so far, an error event, then [DONE]', async () => {
    fake.set({ failAfter: 2, failWith: 'drop' })
    const { res, events, facts } = await stream(hello)
    expect(res.status).toBe(200)
    const contents = chunksOf(events.filter((event) => !event.event)).map((chunk) => chunk.choices[0].delta.content)
    expect(contents).toEqual(['tok0 ', 'tok1 '])
    const error = events.at(-2)!
    expect(error.event).toBe('error')
    expect(JSON.parse(error.data)).toEqual({
      error: { message: expect.stringContaining(fake.url), type: 'upstream_error', param: null, code: 'upstream_died' },
    })
    expect(error.data).not.toContain('verbose') // Bun's hint to developers stays out of answers
    expect(events.at(-1)!.data).toBe('[DONE]')
    expect(facts).toMatchObject({ outcome: 'upstream_error', errorType: 'upstream_died', completionTokens: 2, ended: true })
  })

  test("upstream sends Ollama's error line mid-stream → the content before it, an error event naming it, then [DONE]", async () => {
    fake.set({ failAfter: 2, failWith: 'error' })
    const { events, chunks, facts } = await stream(hello)
    expect(chunks.map((chunk) => chunk.choices?.[0].delta.content ?? '').join('')).toBe('tok0 tok1 ')
    expect(facts).toMatchObject({ outcome: 'upstream_error', errorType: 'upstream_died' })
    expect(events.at(-2)!.event).toBe('error')
    expect(events.at(-2)!.data).toContain('llama runner process has terminated')
    expect(events.at(-1)!.data).toBe('[DONE]')
  })

  test("Ollama's error line as its very first message → 502 naming it, before any byte is sent", async () => {
    fake.set({ failAfter: 0, failWith: 'error' })
    const { res } = await chat({ ...hello, stream: true })
    expect(res.status).toBe(502)
    expect((await res.json()).error).toMatchObject({ code: 'upstream_error', message: expect.stringContaining('llama runner process has terminated') })
  })

  test('a line that is not JSON mid-stream → the content before it, an error event naming it, then [DONE]', async () => {
    fake.set({ failAfter: 2, failWith: 'garbage' })
    const { events, chunks, facts } = await stream(hello)
    expect(chunks.map((chunk) => chunk.choices?.[0].delta.content ?? '').join('')).toBe('tok0 tok1 ')
    expect(events.at(-2)!.event).toBe('error')
    expect(events.at(-2)!.data).toContain('not JSON')
    expect(events.at(-1)!.data).toBe('[DONE]')
    expect(facts).toMatchObject({ outcome: 'upstream_error', errorType: 'upstream_died' })
  })

  test('a line that is not JSON before any message → 502, and the host is not marked down', async () => {
    fake.set({ failAfter: 0, failWith: 'garbage' })
    const { res } = await chat({ ...hello, stream: true })
    expect(res.status).toBe(502)
    expect((await res.json()).error).toMatchObject({ code: 'upstream_error', message: expect.stringContaining('not JSON') })
    fake.set({ failAfter: undefined })
    expect((await chat(hello)).res.status).toBe(200)
  })

  test('upstream dies during a non-streaming reply → 502', async () => {
    fake.set({ failAfter: 2 })
    const { res, facts } = await chat(hello)
    expect(res.status).toBe(502)
    expect((await res.json()).error.code).toBe('upstream_died')
    expect(facts.errorType).toBe('upstream_died')
  })

  test('Ollama refuses the request (4xx) → 400 with its reason, not retried', async () => {
    fake.set({ chatStatus: 400 })
    const { res } = await chat(hello)
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatchObject({ code: 'upstream_rejected', message: expect.stringContaining('failing on purpose') })
  })

  test('a refusal that is not about the request (401 from a proxy in front of Ollama) → 502, not 400', async () => {
    fake.set({ chatStatus: 401 })
    const { res } = await chat(hello)
    expect(res.status).toBe(502)
    expect((await res.json()).error).toMatchObject({ code: 'upstream_error', message: expect.stringContaining('401') })
  })

  test('Ollama fails (5xx) before the first byte → 502', async () => {
    fake.set({ chatStatus: 500 })
    const { res, facts } = await chat(hello)
    expect(res.status).toBe(502)
    expect((await res.json()).error.type).toBe('upstream_error')
    expect(facts.outcome).toBe('upstream_error')
  })

  test('Ollama unreachable → 503 naming the URL it tried', async () => {
    const port = await freePort()
    const down = await testApp({ OLLAMA_BASE_URL: `http://127.0.0.1:${port}` })
    const someone = await seedUser(down.rt)
    const res = await down.call('/v1/chat/completions', { method: 'POST', token: someone.apiKey, json: hello })
    expect(res.status).toBe(503)
    // No reachable host lists the model: whatever was typed stays out of the log.
    await settle(down.rt)
    expect((await logRows(down.rt, (row) => row.path === '/v1/chat/completions')).at(-1)).toMatchObject({ status: 503, model: null })
    const { error } = await res.json()
    expect(error).toMatchObject({ type: 'service_unavailable', code: 'upstream_unreachable' })
    expect(error.message).toContain(`http://127.0.0.1:${port}`)
    const models = await down.call('/v1/models', { token: someone.apiKey })
    expect(models.status).toBe(503)
    await down.close()
  })

  test('credentials in OLLAMA_BASE_URL never reach answers, health or the request log', async () => {
    const port = await freePort()
    const secret = await testApp({ OLLAMA_BASE_URL: `http://ops:s3cret-pw@127.0.0.1:${port}` })
    const someone = await seedUser(secret.rt)
    const res = await secret.call('/v1/chat/completions', { method: 'POST', token: someone.apiKey, json: hello })
    expect(res.status).toBe(503)
    const text = await res.text()
    expect(text).toContain(`http://127.0.0.1:${port}`)
    expect(text).not.toContain('s3cret-pw')
    expect(await (await secret.call('/v1/health', { token: someone.apiKey })).text()).not.toContain('s3cret-pw')
    await settle(secret.rt)
    const logged = (await logRows(secret.rt)).map((row) => ({ upstream: row.upstream }))
    expect(JSON.stringify(logged)).not.toContain('s3cret-pw')
    await secret.close()
  })
})
