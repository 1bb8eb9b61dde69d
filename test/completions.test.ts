// /v1/completions (OpenAI's legacy text completions) on a real socket, driven by the official
// `openai` SDK, against the fake Ollama's /api/generate: the text_completion objects streamed and
// not, what Ollama is sent (prompt, suffix, options, the output cap, log probabilities), OpenAI's
// legacy logprobs, cancellation reaching Ollama, failures mid-stream, bad input, and the log row.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI, { APIError } from 'openai'
import { factsOf } from '../src/telemetry/facts'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { logRows, settle } from './support/log'
import { chunksOf, parseSse } from './support/sse'
import { seedUser } from './support/users'

const MAX_OUTPUT_TOKENS = 1000
const fake = await startFakeOllama()
const { rt, app, call, close } = await testApp({
  OLLAMA_BASE_URL: fake.url,
  UPSTREAM_TIMEOUT_MS: '400',
  RATE_LIMIT_CHAT: '0',
  MAX_OUTPUT_TOKENS: String(MAX_OUTPUT_TOKENS),
  MODEL_PRICES: '{"llama3.2": {"input": 1000000, "output": 2000000}}',
})
const server = listen(app)
const user = await seedUser(rt)
const openai = new OpenAI({ apiKey: user.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const REPLY = 'tok0 tok1 tok2 tok3 tok4 '
const generations = () => fake.requests.filter((request) => request.path === '/api/generate')
const lastSent = () => generations().at(-1)!.body

async function apiError(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(APIError)
    return error as APIError
  }
  throw new Error('expected an APIError')
}

/** Posts a body as it is (the SDK would refuse some of the bad ones before sending). */
const post = (json: unknown, token: string | undefined = user.apiKey) => call('/v1/completions', { method: 'POST', json, token })

/** Waits (up to a second) for the fake to see a request aborted: the abort reaches it over the socket. */
async function untilUpstreamAborted() {
  for (let waited = 0; fake.aborted.length === 0 && waited < 1000; waited += 5) await Bun.sleep(5)
}

/** The fake saw exactly one aborted request, within 200 ms of the client's abort. */
async function expectUpstreamAbortedSince(abortedAt: number) {
  await untilUpstreamAborted()
  expect(fake.aborted).toHaveLength(1)
  expect(fake.aborted[0]!.path).toBe('/api/generate')
  expect(fake.aborted[0]!.at - abortedAt).toBeLessThan(200)
}

describe('through the openai SDK', () => {
  test('non-streamed: one text_completion with the whole text, finish reason and usage', async () => {
    const completion = await openai.completions.create({ model: 'llama3.2', prompt: 'Once upon a time' })
    expect(completion).toEqual({
      id: expect.stringMatching(/^cmpl-[0-9a-f]{32}$/),
      object: 'text_completion',
      created: expect.any(Number),
      model: 'llama3.2',
      choices: [{ text: REPLY, index: 0, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: 5, total_tokens: expect.any(Number) },
    })
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0)
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + 5)
    expect(Math.abs(completion.created - Date.now() / 1000)).toBeLessThan(5)
    // Ollama is asked through generate, streamed, with the output cap always sent
    expect(generations()).toHaveLength(1)
    expect(lastSent()).toEqual({ model: 'llama3.2', prompt: 'Once upon a time', stream: true, options: { num_predict: MAX_OUTPUT_TOKENS } })
  })

  test('streamed: text_completion chunks whose texts make the reply, then the finish chunk with usage', async () => {
    const stream = await openai.completions.create({ model: 'llama3.2', prompt: 'Once', stream: true })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.map((chunk) => chunk.choices[0]!.text).join('')).toBe(REPLY)
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1)
    expect(chunks[0]!.id).toMatch(/^cmpl-/)
    for (const chunk of chunks) expect(chunk.object).toBe('text_completion')
    // null until the end, as OpenAI streams it (its SDK and its OpenAPI document type the field as never null)
    expect(chunks.slice(0, -1).map((chunk) => chunk.choices[0]!.finish_reason as string | null)).toEqual([null, null, null, null, null])
    const last = chunks.at(-1)!
    expect(last.choices).toEqual([{ text: '', index: 0, logprobs: null, finish_reason: 'stop' }])
    expect(last.usage).toMatchObject({ completion_tokens: 5 })
  })

  test('stream_options.include_usage: usage comes last, in a chunk of its own with no choices', async () => {
    const stream = await openai.completions.create({ model: 'llama3.2', prompt: 'Once', stream: true, stream_options: { include_usage: true } })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const [finish, usage] = chunks.slice(-2)
    expect(finish!.choices[0]!.finish_reason).toBe('stop')
    expect(finish).not.toHaveProperty('usage')
    expect(usage!.choices).toEqual([])
    expect(usage!.usage).toMatchObject({ completion_tokens: 5, total_tokens: usage!.usage!.prompt_tokens + 5 })
    expect(chunks.slice(0, -1).some((chunk) => 'usage' in chunk)).toBe(false)
  })

  test('suffix reaches Ollama (fill-in-the-middle); a prompt may come as an array of one string', async () => {
    await openai.completions.create({ model: 'llama3.2', prompt: ['def add(a, b):\n    '], suffix: '\n    return c\n' })
    expect(lastSent()).toMatchObject({ prompt: 'def add(a, b):\n    ', suffix: '\n    return c\n' })
  })

  test('max_tokens → num_predict; running into it ends with finish_reason length, streamed or not', async () => {
    const completion = await openai.completions.create({ model: 'llama3.2', prompt: 'Once', max_tokens: 2 })
    expect(lastSent().options.num_predict).toBe(2)
    expect(completion.choices[0]).toMatchObject({ text: 'tok0 tok1 ', finish_reason: 'length' })
    expect(completion.usage!.completion_tokens).toBe(2)

    const stream = await openai.completions.create({ model: 'llama3.2', prompt: 'Once', max_tokens: 3, stream: true })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.map((chunk) => chunk.choices[0]!.text).join('')).toBe('tok0 tok1 tok2 ')
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('length')
  })

  test('max_tokens above MAX_OUTPUT_TOKENS is clamped to it', async () => {
    await openai.completions.create({ model: 'llama3.2', prompt: 'Once', max_tokens: 50_000 })
    expect(lastSent().options.num_predict).toBe(MAX_OUTPUT_TOKENS)
  })

  test('stop, sampling options, seed and penalties reach Ollama as its options', async () => {
    await openai.completions.create({
      model: 'llama3.2',
      prompt: 'Once',
      stop: 'END',
      temperature: 0.2,
      top_p: 0.9,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      max_tokens: 20,
      n: 1,
      best_of: 1,
      echo: false,
      user: 'user-1234',
    })
    expect(lastSent().options).toEqual({ temperature: 0.2, top_p: 0.9, num_predict: 20, stop: ['END'], seed: 7, presence_penalty: 0.5, frequency_penalty: -0.5 })
    await openai.completions.create({ model: 'llama3.2', prompt: 'Once', stop: ['\n\n', '###', 'END', '"""'] })
    expect(lastSent().options.stop).toEqual(['\n\n', '###', 'END', '"""'])
  })

  test('null means "not set", as OpenAI clients send it', async () => {
    const res = await post({ model: 'llama3.2', prompt: 'Once', suffix: null, max_tokens: null, stop: null, temperature: null, logprobs: null, stream: null, stream_options: null, echo: null, best_of: null, logit_bias: null, n: null, user: null })
    expect(res.status).toBe(200)
    expect(lastSent()).toEqual({ model: 'llama3.2', prompt: 'Once', stream: true, options: { num_predict: MAX_OUTPUT_TOKENS } })
  })
})

describe('logprobs', () => {
  test('logprobs: 2 asks Ollama for 2 alternatives and answers OpenAI\'s legacy shape', async () => {
    const completion = await openai.completions.create({ model: 'llama3.2', prompt: 'Once', logprobs: 2, max_tokens: 3 })
    expect(lastSent()).toMatchObject({ logprobs: true, top_logprobs: 2 })
    expect(completion.choices[0]!.logprobs).toEqual({
      tokens: ['tok0 ', 'tok1 ', 'tok2 '],
      token_logprobs: [-0.25, -0.5, -0.75],
      top_logprobs: [
        { 'tok0 ': -0.25, alt1: -1.25 },
        { 'tok1 ': -0.5, alt1: -1.5 },
        { 'tok2 ': -0.75, alt1: -1.75 },
      ],
      text_offset: [0, 5, 10],
    })
  })

  test('logprobs: 0 gives the sampled tokens\' own log probabilities only', async () => {
    const completion = await openai.completions.create({ model: 'llama3.2', prompt: 'Once', logprobs: 0, max_tokens: 2 })
    expect(lastSent().logprobs).toBe(true)
    expect(lastSent()).not.toHaveProperty('top_logprobs')
    expect(completion.choices[0]!.logprobs).toEqual({
      tokens: ['tok0 ', 'tok1 '],
      token_logprobs: [-0.25, -0.5],
      top_logprobs: [{ 'tok0 ': -0.25 }, { 'tok1 ': -0.5 }],
      text_offset: [0, 5],
    })
  })

  test('streamed: each chunk carries its tokens\' log probabilities; offsets run on through the text', async () => {
    fake.set({ tokens: ['héllo', ' wörld', '!'] })
    const stream = await openai.completions.create({ model: 'llama3.2', prompt: 'Once', logprobs: 1, stream: true })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    const pieces = chunks.slice(0, -1).map((chunk) => chunk.choices[0]!)
    expect(pieces.map((piece) => piece.text)).toEqual(['héllo', ' wörld', '!'])
    expect(pieces.map((piece) => piece.logprobs)).toEqual([
      { tokens: ['héllo'], token_logprobs: [-0.25], top_logprobs: [{ héllo: -0.25 }], text_offset: [0] },
      { tokens: [' wörld'], token_logprobs: [-0.5], top_logprobs: [{ ' wörld': -0.5 }], text_offset: [5] },
      { tokens: ['!'], token_logprobs: [-0.75], top_logprobs: [{ '!': -0.75 }], text_offset: [11] },
    ])
    expect(chunks.at(-1)!.choices[0]!.logprobs).toEqual({ tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] })
  })

  test('a token whose text is "__proto__" is an ordinary key of its alternatives', async () => {
    fake.set({ tokens: ['__proto__'] })
    const res = await post({ model: 'llama3.2', prompt: 'Once', logprobs: 3 })
    const text = await res.text()
    expect(JSON.parse(text).choices[0].logprobs.top_logprobs).toEqual([JSON.parse('{"__proto__": -0.25, "alt1": -1.25, "alt2": -2.25}')])
  })
})

describe('cancellation', () => {
  test('a client that goes away mid-stream aborts the upstream generate within 200 ms; logged as cancelled', async () => {
    fake.set({ chunks: 1000, chunkDelayMs: 20 })
    const stream = await openai.completions.create({ model: 'llama3.2', prompt: 'Once', stream: true })
    let received = 0
    for await (const _ of stream) if (++received === 3) break // `break` aborts the SDK's request
    const abortedAt = performance.now()
    await expectUpstreamAbortedSince(abortedAt)
    expect(fake.aborted[0]!.chunksSent).toBeLessThan(20)
    expect(fake.active).toBe(0)

    const request = server.received.findLast((r) => r.url.endsWith('/v1/completions'))!
    for (let waited = 0; !factsOf(request).ended && waited < 1000; waited += 5) await Bun.sleep(5)
    expect(factsOf(request)).toMatchObject({ outcome: 'cancelled', streaming: true, ended: true, upstream: fake.url })
    expect(factsOf(request).completionTokens).toBeGreaterThanOrEqual(3)
  })

  test('a client that gives up on a non-streamed completion aborts the upstream too', async () => {
    fake.set({ chunks: 1000, chunkDelayMs: 20 })
    const controller = new AbortController()
    const pending = openai.completions.create({ model: 'llama3.2', prompt: 'Once' }, { signal: controller.signal }).catch((error) => error)
    for (let waited = 0; generations().length === 0 && waited < 1000; waited += 5) await Bun.sleep(5)
    await Bun.sleep(50)
    controller.abort()
    const abortedAt = performance.now()
    await pending
    await expectUpstreamAbortedSince(abortedAt)
  })
})

describe('failures', () => {
  test('an upstream dying mid-stream: the text so far, then an error event in OpenAI\'s envelope, then [DONE]', async () => {
    fake.set({ failAfter: 2, failWith: 'error' })
    const res = await post({ model: 'llama3.2', prompt: 'Once', stream: true })
    expect(res.status).toBe(200)
    const events = parseSse(await res.text())
    expect(events.at(-1)!.data).toBe('[DONE]')
    const error = events.at(-2)!
    expect(error.event).toBe('error')
    expect(JSON.parse(error.data)).toEqual({
      error: { message: expect.stringContaining(fake.url), type: 'upstream_error', param: null, code: 'upstream_died' },
    })
    const texts = chunksOf(events.slice(0, -2)).map((chunk) => chunk.choices[0].text)
    expect(texts.join('')).toBe('tok0 tok1 ')
  })

  test('through the SDK, a stream that dies surfaces as an APIError after the text so far', async () => {
    fake.set({ failAfter: 2, failWith: 'drop', chunkDelayMs: 2 })
    const stream = await openai.completions.create({ model: 'llama3.2', prompt: 'Once', stream: true })
    let text = ''
    const error = await apiError(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.text ?? ''
      })(),
    )
    expect(text).toBe('tok0 tok1 ')
    expect(error.code).toBe('upstream_died')
  })

  test('silent mid-stream for longer than UPSTREAM_TIMEOUT_MS → error event upstream_timeout; the upstream is aborted', async () => {
    fake.set({ stallAfter: 2 })
    const events = parseSse(await (await post({ model: 'llama3.2', prompt: 'Once', stream: true })).text())
    expect(JSON.parse(events.at(-2)!.data).error.code).toBe('upstream_timeout')
    await untilUpstreamAborted()
    expect(fake.aborted).toMatchObject([{ path: '/api/generate', chunksSent: 2 }])
  })

  test('an upstream failing mid-reply of a non-streamed completion → 502', async () => {
    fake.set({ failAfter: 2, failWith: 'error' })
    const error = await apiError(openai.completions.create({ model: 'llama3.2', prompt: 'Once' }))
    expect(error.status).toBe(502)
    expect(error.code).toBe('upstream_died')
  })

  test('Ollama refusing before the first byte → 502 naming it; a model no host has → 404', async () => {
    fake.set({ chatStatus: 500 })
    expect((await apiError(openai.completions.create({ model: 'llama3.2', prompt: 'Once' }))).status).toBe(502)
    fake.reset()
    const missing = await apiError(openai.completions.create({ model: 'no-such-model', prompt: 'Once' }))
    expect(missing.status).toBe(404)
    expect(missing.code).toBe('model_not_found')
    expect(missing.param).toBe('model')
    expect(missing.message).not.toContain('no-such-model')
  })

  test('Ollama hanging before the first byte → 504, and its request is aborted', async () => {
    fake.set({ hang: true })
    expect((await post({ model: 'llama3.2', prompt: 'Once', stream: true })).status).toBe(504)
    await untilUpstreamAborted()
    expect(fake.aborted).toMatchObject([{ path: '/api/generate' }])
    // A host silent for the whole timeout is kept out for a while: the later tests want it back.
    fake.reset()
    for (let waited = 0; (await call('/v1/health', { token: user.apiKey })).status !== 200 && waited < 3000; waited += 50) await Bun.sleep(50)
  })

  test('without credentials → 401', async () => {
    const error = await apiError(new OpenAI({ apiKey: 'sk-studio-wrong', baseURL: `${server.url}/v1`, maxRetries: 0 }).completions.create({ model: 'llama3.2', prompt: 'x' }))
    expect(error.status).toBe(401)
    expect(generations()).toHaveLength(0)
  })
})

describe('bad input → 400 naming the field, never echoing the value, Ollama never asked', () => {
  const SECRET = 'SECRET-VALUE-4711'
  const cases: [string, Record<string, unknown>, string, string?][] = [
    ['echo true', { echo: true }, 'echo', 'unsupported_parameter'],
    ['best_of > 1', { best_of: 3 }, 'best_of', 'unsupported_parameter'],
    ['best_of past its range', { best_of: 21 }, 'best_of'],
    ['a logit bias', { logit_bias: { '50256': -100 } }, 'logit_bias', 'unsupported_parameter'],
    ['a prompt of token ids', { prompt: [1212, 318, 257] }, 'prompt'],
    ['prompts of token ids', { prompt: [[1212, 318], [257]] }, 'prompt'],
    ['two prompts', { prompt: [SECRET, 'another'] }, 'prompt'],
    ['an empty prompt array', { prompt: [] }, 'prompt'],
    ['an empty prompt (Ollama would only load the model)', { prompt: '' }, 'prompt'],
    ['an array of one empty prompt', { prompt: [''] }, 'prompt'],
    ['a prompt that is a number', { prompt: 4711 }, 'prompt'],
    ['a prompt that is an object', { prompt: { text: SECRET } }, 'prompt'],
    ['no prompt', { prompt: undefined }, 'prompt'],
    ['no model', { model: undefined }, 'model'],
    ['a model name too long', { model: SECRET.repeat(20) }, 'model'],
    ['a suffix that is not a string', { suffix: 4711 }, 'suffix'],
    ['max_tokens 0', { max_tokens: 0 }, 'max_tokens'],
    ['max_tokens not an integer', { max_tokens: 2.5 }, 'max_tokens'],
    ['max_tokens a string', { max_tokens: SECRET }, 'max_tokens'],
    ['temperature past 2', { temperature: 3 }, 'temperature'],
    ['top_p past 1', { top_p: 1.5 }, 'top_p'],
    ['five stop sequences', { stop: ['a', 'b', 'c', 'd', SECRET] }, 'stop'],
    ['a stop sequence too long', { stop: SECRET.repeat(100) }, 'stop'],
    ['stop a number', { stop: 4711 }, 'stop'],
    ['logprobs past 5', { logprobs: 6 }, 'logprobs'],
    ['logprobs true (the chat form)', { logprobs: true }, 'logprobs'],
    ['n of 2', { n: 2 }, 'n'],
    ['seed past 2^53', { seed: 2 ** 60 }, 'seed'],
    ['penalty past 2', { presence_penalty: 2.5 }, 'presence_penalty'],
    ['stream a string', { stream: SECRET }, 'stream'],
    ['stream_options a string', { stream_options: SECRET }, 'stream_options'],
    ['include_usage a string', { stream_options: { include_usage: SECRET } }, 'stream_options.include_usage'],
    ['a user id too long', { user: SECRET.repeat(40) }, 'user'],
  ]
  test.each(cases)('%s', async (_, change, param, code = 'invalid_value') => {
    const res = await post({ model: 'llama3.2', prompt: 'Once', ...change })
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as { error: Record<string, unknown> }
    expect(error).toMatchObject({ type: 'invalid_request_error', param, code })
    expect(error.message).toContain(param)
    expect(JSON.stringify(error)).not.toContain(SECRET)
    expect(JSON.stringify(error)).not.toContain('4711')
    expect(generations()).toHaveLength(0)
  })

  test('every field but the model given every kind of JSON value: a 200, or a 400 naming that field', async () => {
    const fields = ['prompt', 'suffix', 'max_tokens', 'stop', 'temperature', 'top_p', 'seed', 'presence_penalty', 'frequency_penalty', 'logprobs', 'stream', 'stream_options', 'n', 'echo', 'best_of', 'logit_bias', 'user']
    const values = [null, true, false, 0, -1, 1.5, 1e308, '', 'x', 'x'.repeat(5000), [], [''], [null], [[]], [[1, 2]], {}, { a: 1 }, { include_usage: 1 }, [{}, 1, 'x']]
    for (const field of fields)
      for (const value of values) {
        const res = await post({ model: 'llama3.2', prompt: 'Once', [field]: value })
        const body = await res.text()
        if (res.status === 200) continue
        expect({ field, value, status: res.status }).toEqual({ field, value, status: 400 })
        expect(JSON.parse(body).error.param).toStartWith(field)
      }
  })

  test('the SDK sees a refusal as a 400 APIError naming the field', async () => {
    const error = await apiError(openai.completions.create({ model: 'llama3.2', prompt: 'Once', echo: true }))
    expect(error.status).toBe(400)
    expect(error.param).toBe('echo')
    expect(error.message).toContain('not supported')
  })

  test('a body past MAX_BODY_BYTES → 413', async () => {
    const res = await post({ model: 'llama3.2', prompt: 'x'.repeat(2 * 1024 * 1024) })
    expect(res.status).toBe(413)
    expect(generations()).toHaveLength(0)
  })
})

describe('limits shared with chat', () => {
  test('a completion holds one of the user\'s MAX_CONCURRENT_REQUESTS slots, and counts against RATE_LIMIT_CHAT', async () => {
    const limited = await testApp({ OLLAMA_BASE_URL: fake.url, MAX_CONCURRENT_REQUESTS: '1', RATE_LIMIT_CHAT: '4' })
    const limitedServer = listen(limited.app)
    const someone = await seedUser(limited.rt)
    const client = new OpenAI({ apiKey: someone.apiKey, baseURL: `${limitedServer.url}/v1`, maxRetries: 0 })
    try {
      fake.set({ chunks: 1000, chunkDelayMs: 20 })
      const stream = await client.completions.create({ model: 'llama3.2', prompt: 'Once', stream: true })
      const reading = stream[Symbol.asyncIterator]()
      await reading.next()
      // the one slot is taken: a chat and another completion are refused
      const chat = await apiError(client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] }))
      expect([chat.status, chat.code]).toEqual([429, 'too_many_concurrent_requests'])
      expect((await apiError(client.completions.create({ model: 'llama3.2', prompt: 'Once' }))).status).toBe(429)
      await reading.return!()
      await untilUpstreamAborted()
      // its slot is back; the fifth request of the minute (the refused ones count) is past RATE_LIMIT_CHAT
      fake.reset()
      expect((await client.completions.create({ model: 'llama3.2', prompt: 'Once' })).object).toBe('text_completion')
      const limitedRate = await apiError(client.completions.create({ model: 'llama3.2', prompt: 'Once' }))
      expect([limitedRate.status, limitedRate.code]).toEqual([429, 'rate_limit_exceeded'])
    } finally {
      limitedServer.stop()
      await limited.close()
    }
  })
})

describe('the request log', () => {
  test('each completion is logged with its model, host, tokens, time to first token, outcome, id and cost', async () => {
    const plain = await openai.completions.create({ model: 'llama3.2', prompt: 'Once' })
    const stream = await openai.completions.create({ model: 'llama3.2', prompt: 'Once', stream: true, max_tokens: 2 })
    let streamedId = ''
    for await (const chunk of stream) streamedId = chunk.id
    fake.set({ failAfter: 1, failWith: 'error' })
    await (await post({ model: 'llama3.2', prompt: 'Once', stream: true })).text()
    await settle(rt)
    const rows = (await logRows(rt, (row) => row.path === '/v1/completions')).slice(-3)
    expect(rows[0]).toMatchObject({
      method: 'POST',
      status: 200,
      userId: user.userId,
      model: 'llama3.2',
      upstream: fake.url,
      completionId: plain.id,
      promptTokens: plain.usage!.prompt_tokens,
      completionTokens: 5,
      outcome: 'ok',
    })
    expect(rows[0]!.ttftMs).toBeGreaterThanOrEqual(0)
    // MODEL_PRICES per 1M tokens: 1 per prompt token, 2 per completion token
    expect(rows[0]!.cost).toBeCloseTo(plain.usage!.prompt_tokens + 2 * 5, 6)
    expect(rows[1]).toMatchObject({ status: 200, completionId: streamedId, completionTokens: 2, outcome: 'ok' })
    expect(rows[2]).toMatchObject({ status: 200, outcome: 'upstream_error', errorType: 'upstream_died', completionTokens: 1 })
  })

  test('a model no host has is not logged under the name the client typed', async () => {
    await apiError(openai.completions.create({ model: 'typed-by-the-client', prompt: 'Once' }))
    await settle(rt)
    expect((await logRows(rt, (row) => row.path === '/v1/completions')).at(-1)).toMatchObject({ status: 404, model: null })
  })
})

test('/v1/completions is documented in /swagger/json, with a "Try it out" body that works as shown', async () => {
  const doc = (await (await call('/swagger/json')).json()) as { paths: Record<string, Record<string, any>> }
  const schema = doc.paths['/v1/completions']?.post?.requestBody.content['application/json'].schema
  expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['model', 'prompt', 'suffix', 'max_tokens', 'stop', 'logprobs', 'echo', 'best_of']))
  const res = await post(schema.examples[0])
  expect(res.status).toBe(200)
  expect(((await res.json()) as { object: string }).object).toBe('text_completion')
})
