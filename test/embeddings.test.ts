// POST /v1/embeddings (issue 16, deliverable 2) driven by the official `openai` SDK on a real
// socket: a string and an array, float and base64 answers (decoded to the fake Ollama's own
// float32 values), dimensions; bad input refused before Ollama is called, naming the field and
// never echoing it; unknown and non-embedding models, a host that is down, failover; the log row
// and its price; cancel-on-disconnect; the embeddings rate-limit group and the concurrency cap.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI, { APIError } from 'openai'
import { readEmbedAnswer } from '../src/embeddings/answer'
import { HttpError } from '../src/http/errors'
import { testApp } from './support/app'
import { fakeEmbedding, fakeTokenCount, startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { logRows, settle } from './support/log'
import { seedUser } from './support/users'

const MODEL = 'nomic-embed-text'
const PRICE_PER_MILLION = 1000 // dollars per 1M input tokens: a token costs 0.001

const fake = await startFakeOllama()
const { rt, app, call, close } = await testApp({
  OLLAMA_BASE_URL: fake.url,
  MODEL_PRICES: JSON.stringify({ [MODEL]: { input: PRICE_PER_MILLION, output: 5000 } }),
  LOG_FLUSH_MS: '50',
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

/** What the fake computes for `text` with nomic-embed-text (768 values). */
const expected = (text: string, dimensions?: number) => fakeEmbedding('nomic-embed-text:latest', 768, text, dimensions)
const embedCalls = () => fake.requests.filter((request) => request.path === '/api/embed')
const embed = (json: unknown, token: string | null = user.apiKey) => call('/v1/embeddings', { method: 'POST', json, token: token ?? undefined })

async function apiError(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(APIError)
    return error as APIError
  }
  throw new Error('expected an APIError')
}

/** The little-endian float32 values of a base64 embedding, decoded without the SDK. */
function decodeBase64(text: string): number[] {
  const bytes = Buffer.from(text, 'base64')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true))
}

describe('the openai SDK', () => {
  test("a string, as the SDK asks by default (base64, decoded by the SDK): the fake's float32 values exactly", async () => {
    const reply = await openai.embeddings.create({ model: MODEL, input: 'The quick brown fox' })
    expect(reply.object).toBe('list')
    expect(reply.model).toBe(MODEL)
    expect(reply.data).toHaveLength(1)
    expect(reply.data[0]!.object).toBe('embedding')
    expect(reply.data[0]!.index).toBe(0)
    expect(reply.data[0]!.embedding).toEqual(expected('The quick brown fox'))
    const tokens = fakeTokenCount('The quick brown fox')
    expect(reply.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens })
    // Ollama was asked for text, and nothing it does not know
    expect(embedCalls().map((request) => request.body)).toEqual([{ model: MODEL, input: ['The quick brown fox'] }])
  })

  test('an array with encoding_format float: one embedding per input, in order, as numbers', async () => {
    const input = ['first text', 'second, longer text', 'third']
    const reply = await openai.embeddings.create({ model: MODEL, input, encoding_format: 'float' })
    expect(reply.data.map((item) => item.index)).toEqual([0, 1, 2])
    for (const [i, text] of input.entries()) {
      const vector = reply.data[i]!.embedding
      expect(Array.isArray(vector)).toBe(true)
      expect(vector.map(Math.fround)).toEqual(expected(text))
    }
    const tokens = input.reduce((sum, text) => sum + fakeTokenCount(text), 0)
    expect(reply.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens })
  })

  test("encoding_format base64: little-endian float32 bytes, exactly the fake's values", async () => {
    const input = ['alpha', 'beta']
    const reply = await openai.embeddings.create({ model: MODEL, input, encoding_format: 'base64' })
    for (const [i, text] of input.entries()) {
      const encoded = reply.data[i]!.embedding as unknown as string
      expect(typeof encoded).toBe('string')
      expect(Buffer.from(encoded, 'base64').byteLength).toBe(768 * 4)
      expect(decodeBase64(encoded)).toEqual(expected(text))
    }
  })

  test('dimensions: Ollama is asked for them; the shortened vectors come back in both encodings', async () => {
    const floats = await openai.embeddings.create({ model: MODEL, input: 'short', dimensions: 64, encoding_format: 'float' })
    expect(floats.data[0]!.embedding.map(Math.fround)).toEqual(expected('short', 64))
    const decoded = await openai.embeddings.create({ model: MODEL, input: 'short', dimensions: 64 })
    expect(decoded.data[0]!.embedding).toEqual(expected('short', 64))
    expect(embedCalls().map((request) => request.body.dimensions)).toEqual([64, 64])
  })

  test('`user` is accepted (and not sent to Ollama)', async () => {
    const reply = await openai.embeddings.create({ model: MODEL, input: 'hi', user: 'user-1234' })
    expect(reply.data).toHaveLength(1)
    expect(embedCalls()[0]!.body).toEqual({ model: MODEL, input: ['hi'] })
  })

  test('an unknown model: 404 model_not_found, naming the field', async () => {
    const error = await apiError(openai.embeddings.create({ model: 'no-such-model', input: 'hi' }))
    expect(error.status).toBe(404)
    expect(error.code).toBe('model_not_found')
    expect(error.param).toBe('model')
    expect(error.message).not.toContain('no-such-model')
  })

  test("a model that cannot embed: 400 with Ollama's reason", async () => {
    const error = await apiError(openai.embeddings.create({ model: 'llama3.2', input: 'hi' }))
    expect(error.status).toBe(400)
    expect(error.code).toBe('upstream_rejected')
    expect(error.message).toContain('does not support embeddings')
  })
})

describe('bad input: 400 naming the field, before Ollama is called, never echoing the value', () => {
  const SECRET = 'hunter2-secret'
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['token ids', { model: MODEL, input: [1, 2, 3] }, 'input', /token arrays are not accepted, since Ollama embeds text/],
    [
      'arrays of token ids',
      {
        model: MODEL,
        input: [
          [101, 2023],
          [101, 2003],
        ],
      },
      'input',
      /token arrays are not accepted/,
    ],
    ['an empty array', { model: MODEL, input: [] }, 'input', /array of 1 to 2048 strings/],
    ['an empty string', { model: MODEL, input: '' }, 'input', /each of 1 to 131072 characters/],
    ['a number', { model: MODEL, input: 42 }, 'input', /input must be a string or an array/],
    ['an object', { model: MODEL, input: { text: SECRET } }, 'input', /input must be a string or an array/],
    ['a string among numbers', { model: MODEL, input: [SECRET, 7] }, 'input', /input must be a string or an array/],
    ['2049 inputs', { model: MODEL, input: Array.from({ length: 2049 }, () => SECRET) }, 'input', /1 to 2048 strings/],
    ['an input past 131072 characters', { model: MODEL, input: [`${SECRET}${'x'.repeat(131_072)}`] }, 'input', /1 to 131072 characters/],
    ['no input', { model: MODEL }, 'input', /input must be/],
    ['no model', { input: SECRET }, 'model', /model must be a string/],
    ['an empty model', { model: '', input: SECRET }, 'model', /model must be a string/],
    ['a model that is not a string', { model: 17, input: SECRET }, 'model', /model must be a string/],
    ['an unknown encoding_format', { model: MODEL, input: 'x', encoding_format: SECRET }, 'encoding_format', /'float' or 'base64'/],
    ['dimensions 0', { model: MODEL, input: 'x', dimensions: 0 }, 'dimensions', /integer from 1 to 65536/],
    ['fractional dimensions', { model: MODEL, input: 'x', dimensions: 1.5 }, 'dimensions', /integer from 1 to 65536/],
    ['dimensions as a string', { model: MODEL, input: 'x', dimensions: SECRET }, 'dimensions', /integer from 1 to 65536/],
    ['a user that is not a string', { model: MODEL, input: 'x', user: { id: SECRET } }, 'user', /user must be a string/],
  ]
  for (const [name, json, param, message] of cases)
    test(name, async () => {
      const res = await embed(json)
      expect(res.status).toBe(400)
      const text = await res.text()
      expect(text).not.toContain(SECRET)
      const { error } = JSON.parse(text)
      expect(error).toMatchObject({ type: 'invalid_request_error', param, code: 'invalid_value' })
      expect(error.message).toMatch(message)
      expect(error.message).toContain(`'${param}'`)
      expect(embedCalls()).toHaveLength(0)
    })

  test('without credentials: 401', async () => {
    expect((await embed({ model: MODEL, input: 'x' }, null)).status).toBe(401)
    expect(embedCalls()).toHaveLength(0)
  })
})

describe('the request log', () => {
  test('model, host, prompt tokens, cost at the input price, outcome', async () => {
    const input = ['one text to price', 'and another']
    await openai.embeddings.create({ model: MODEL, input })
    await settle(rt)
    const row = (await logRows(rt, (row) => row.path === '/v1/embeddings')).at(-1)!
    const tokens = input.reduce((sum, text) => sum + fakeTokenCount(text), 0)
    expect(row).toMatchObject({
      method: 'POST',
      status: 200,
      userId: user.userId,
      model: MODEL,
      upstream: fake.url,
      promptTokens: tokens,
      completionTokens: 0,
      outcome: 'ok',
      errorType: null,
    })
    expect(row.cost).toBeCloseTo((tokens * PRICE_PER_MILLION) / 1_000_000, 6)
  })

  test('a refused model: client_error with the upstream code, not priced', async () => {
    await apiError(openai.embeddings.create({ model: 'llama3.2', input: 'hi' }))
    await settle(rt)
    const row = (await logRows(rt, (row) => row.path === '/v1/embeddings')).at(-1)!
    expect(row).toMatchObject({ status: 400, model: 'llama3.2', outcome: 'client_error', errorType: 'upstream_rejected', promptTokens: 0, cost: 0 })
  })

  test('a client that goes away aborts the upstream request at once; the row says cancelled', async () => {
    fake.set({ embedDelayMs: 1000 })
    const controller = new AbortController()
    const sent = fetch(`${server.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, input: ['slow', 'texts'] }),
      signal: controller.signal,
    }).catch(() => undefined)
    for (let waited = 0; embedCalls().length === 0 && waited < 1000; waited += 5) await Bun.sleep(5)
    expect(embedCalls()).toHaveLength(1)
    const abortedAt = performance.now()
    controller.abort()
    await sent
    for (let waited = 0; fake.aborted.length === 0 && waited < 1000; waited += 5) await Bun.sleep(5)
    expect(fake.aborted.map((request) => request.path)).toEqual(['/api/embed'])
    expect(fake.aborted[0]!.at - abortedAt).toBeLessThan(200)
    for (let waited = 0; waited < 1000; waited += 20) {
      await settle(rt)
      if ((await logRows(rt, (row) => row.path === '/v1/embeddings' && row.outcome === 'cancelled')).length) break
      await Bun.sleep(20)
    }
    const row = (await logRows(rt, (row) => row.path === '/v1/embeddings')).at(-1)!
    expect(row).toMatchObject({ outcome: 'cancelled', model: MODEL, promptTokens: 0 })
  })
})

describe('hosts', () => {
  test('a host that is down: 503 upstream_unreachable, logged as an upstream error', async () => {
    const lonely = await startFakeOllama()
    const gone = await testApp({ OLLAMA_BASE_URL: lonely.url })
    lonely.down()
    try {
      const someone = await seedUser(gone.rt)
      const res = await gone.call('/v1/embeddings', { method: 'POST', token: someone.apiKey, json: { model: MODEL, input: 'hi' } })
      expect(res.status).toBe(503)
      expect((await res.json()).error).toMatchObject({ type: 'service_unavailable', code: 'upstream_unreachable' })
      await settle(gone.rt)
      const row = (await logRows(gone.rt, (row) => row.path === '/v1/embeddings')).at(-1)!
      expect(row).toMatchObject({ status: 503, outcome: 'upstream_error', errorType: 'upstream_unreachable' })
    } finally {
      await gone.close()
      lonely.stop()
    }
  })

  test('the model on two hosts, the first gone down since its check: answered by the other, which the log names', async () => {
    const a = await startFakeOllama()
    const b = await startFakeOllama()
    const pair = await testApp({ OLLAMA_BASE_URL: `${a.url},${b.url}`, UPSTREAM_CHECK_INTERVAL_MS: '60000' })
    try {
      const someone = await seedUser(pair.rt)
      const once = () => pair.call('/v1/embeddings', { method: 'POST', token: someone.apiKey, json: { model: MODEL, input: ['x', 'y'] } })
      // Both checked and serving; the least busy, fastest first: whichever it is goes down.
      expect((await once()).status).toBe(200)
      const [first, other] = a.requests.some((request) => request.path === '/api/embed') ? [a, b] : [b, a]
      first.down()
      const res = await once()
      expect(res.status).toBe(200)
      expect((await res.json()).data.map((item: { embedding: number[] }) => item.embedding.map(Math.fround))).toEqual([expected('x'), expected('y')])
      expect(other.requests.filter((request) => request.path === '/api/embed')).toHaveLength(1)
      await settle(pair.rt)
      expect((await logRows(pair.rt, (row) => row.path === '/v1/embeddings')).map((row) => row.upstream)).toEqual([first.url, other.url])
    } finally {
      await pair.close()
      a.stop()
      b.stop()
    }
  })
})

describe('limits', () => {
  test('its own rate-limit group (RATE_LIMIT_EMBEDDINGS), apart from chat; and the concurrency cap', async () => {
    const limited = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_EMBEDDINGS: '3', MAX_CONCURRENT_REQUESTS: '1' })
    try {
      const someone = await seedUser(limited.rt)
      const once = () => limited.call('/v1/embeddings', { method: 'POST', token: someone.apiKey, json: { model: MODEL, input: 'x' } })
      const first = await once()
      expect(first.status).toBe(200)
      expect(first.headers.get('x-ratelimit-limit')).toBe('3')
      expect(first.headers.get('x-ratelimit-remaining')).toBe('2')

      // A second request while one is in progress: over the concurrency cap.
      fake.set({ embedDelayMs: 300 })
      const slow = once()
      for (let waited = 0; embedCalls().length < 2 && waited < 1000; waited += 5) await Bun.sleep(5)
      const concurrent = await once()
      expect(concurrent.status).toBe(429)
      expect((await concurrent.json()).error.code).toBe('too_many_concurrent_requests')
      expect((await slow).status).toBe(200)
      fake.set({ embedDelayMs: 0 })

      // Three counted (the one refused for concurrency too): the fourth is over the limit.
      const refused = await once()
      expect(refused.status).toBe(429)
      expect((await refused.json()).error.code).toBe('rate_limit_exceeded')
      // Chat counts in its own group.
      const chat = await limited.call('/v1/chat/completions', {
        method: 'POST',
        token: someone.apiKey,
        json: { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] },
      })
      expect(chat.status).toBe(200)
    } finally {
      await limited.close()
    }
  })
})

// The reader of Ollama's answer bytes (src/embeddings/answer.ts) copies vectors as they are and
// reads base64's float32 values itself: what it reads must be what JSON.parse reads, and what it
// copies must be JSON, whatever the upstream sends.
describe("reading Ollama's answer", () => {
  const encode = (text: string) => new TextEncoder().encode(text)
  const jsonOf = (text: string, inputs: number) => (readEmbedAnswer(encode(text), inputs, 'x', 'float').vectors as Uint8Array[]).map((bytes) => JSON.parse(new TextDecoder().decode(bytes)))
  const base64Of = (text: string, inputs: number) => (readEmbedAnswer(encode(text), inputs, 'x', 'base64').vectors as string[]).map(decodeBase64)

  test('every number form JSON allows reads as JSON.parse reads it, in float32', () => {
    const vectors = [
      [0.0123456, -0.5, 1, -0, 0, 1e-5, 1.5e-7, -2.5e10, 3.4028234663852886e38, 1.401298464324817e-45, 123456789, 0.30000001192092896],
      Array.from({ length: 300 }, () => Math.fround(Math.random() * 2 - 1)),
    ]
    const text = `{"model":"m","embeddings":[[0.0123456,-0.5,1,-0,0,1e-05,1.5E-7,-2.5e+10,3.4028234663852886e38,1.401298464324817e-45,123456789,0.30000001192092896],[${vectors[1]!.join(',')}]],"prompt_eval_count":7}`
    expect(readEmbedAnswer(encode(text), 2, 'x', 'float').promptEvalCount).toBe(7)
    expect(readEmbedAnswer(encode(text), 2, 'x', 'base64').promptEvalCount).toBe(7)
    const parsed = JSON.parse(text).embeddings as number[][]
    expect(base64Of(text, 2)).toEqual(parsed.map((vector) => Array.from(new Float32Array(vector))))
    expect(jsonOf(text, 2)).toEqual(parsed)
  })

  test('base64: thousands of numbers in every form Go and JSON write them read as JSON.parse reads them, then rounded to float32', () => {
    const forms = [
      (value: number) => String(Math.fround(value)),
      (value: number) => value.toExponential(Math.floor(Math.random() * 9)),
      (value: number) => value.toPrecision(1 + Math.floor(Math.random() * 17)),
      (value: number) => String(value),
    ]
    for (let round = 0; round < 20; round++) {
      const numbers = Array.from({ length: 1000 }, (_, i) => forms[i % forms.length]!((Math.random() * 2 - 1) * 10 ** (Math.floor(Math.random() * 70) - 40)))
      const vector = `[${numbers.join(',')}]`
      expect(base64Of(`{"model":"m","embeddings":[${vector}],"prompt_eval_count":1}`, 1)).toEqual([Array.from(new Float32Array(JSON.parse(vector)))])
    }
  })

  test('vectors longer than the reader first makes room for (4096 values) are read whole', () => {
    const vectors = [Array.from({ length: 9000 }, (_, i) => Math.fround(Math.sin(i))), Array.from({ length: 5000 }, (_, i) => Math.fround(Math.cos(i) * 1e-3))]
    const text = `{"model":"m","embeddings":[${vectors.map((vector) => `[${vector.join(',')}]`).join(',')}],"prompt_eval_count":2}`
    expect(base64Of(text, 2)).toEqual(vectors)
    expect(jsonOf(text, 2)).toEqual(vectors)
  })

  test('an answer laid out otherwise (whitespace) is parsed whole', () => {
    const text = '{ "model": "m", "embeddings": [ [1, 2.5], [3, -4e-2] ], "prompt_eval_count": 3 }'
    expect(jsonOf(text, 2)).toEqual([
      [1, 2.5],
      [3, -0.04],
    ])
    expect(base64Of(text, 2)).toEqual([
      [1, 2.5],
      [3, Math.fround(-0.04)],
    ])
  })

  const broken: [string, string][] = [
    ['fewer vectors than inputs', '{"embeddings":[[1,2]]}'],
    ['more vectors than inputs', '{"embeddings":[[1,2],[3,4],[5,6]]}'],
    ['a string among the numbers', '{"embeddings":[[1,"2"],[3,4]]}'],
    ['an empty vector', '{"embeddings":[[],[3,4]]}'],
    ['a nested array', '{"embeddings":[[[1]],[3,4]]}'],
    ['a null vector', '{"embeddings":[null,[3,4]]}'],
    ['no embeddings', '{"model":"m"}'],
    ['a number too large for a double', '{"embeddings":[[1e400,2],[3,4]]}'],
    ['an integer too large for a double', `{"embeddings":[[${'9'.repeat(400)},2],[3,4]]}`],
    ['a negative number too large for a double', '{"embeddings":[[1,2],[3,-0.5E+309]]}'],
  ]
  const encodings = ['float', 'base64'] as const
  for (const [name, text] of broken)
    test(`${name}: a 502`, () => {
      for (const encoding of encodings) {
        let failure: unknown
        try {
          readEmbedAnswer(encode(text), 2, 'http://ollama:11434', encoding)
        } catch (error) {
          failure = error
        }
        expect(failure).toBeInstanceOf(HttpError)
        expect((failure as HttpError).status).toBe(502)
      }
    })

  test('not JSON (a cut answer, a number JSON does not allow): a parse error, which the route answers with a 502', () => {
    for (const encoding of encodings)
      for (const text of ['{"embeddings":[[1,2],[3,4]],', '{"embeddings":[[01,2],[3,4]]}', '{"embeddings":[[1.,2],[3,4]]}', '{"embeddings":[[1e,2],[3,4]]}', '{"embeddings":[[-,2],[3,4]]}'])
        expect(() => readEmbedAnswer(encode(text), 2, 'x', encoding)).toThrow(SyntaxError)
  })
})
