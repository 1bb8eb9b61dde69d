// Thousands of random and mutated bodies against /v1/chat/completions (fast-check): whatever
// arrives, the answer is a 2xx or a 4xx with an OpenAI error envelope — never a 5xx, never a
// crash — and a stream always ends with [DONE].
import { afterAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { testApp } from './support/app'
import { mutate, mutationOf } from './support/body-mutations'
import { startFakeOllama } from './support/fake-ollama'
import { seedUser } from './support/users'

const fake = await startFakeOllama({ chunks: 2 })
// Thousands of requests from one user: the chat rate limit is off here (it has its own tests).
const { rt, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '0' })
const user = await seedUser(rt)
afterAll(async () => {
  await close()
  fake.stop()
})

const valid = {
  model: 'llama3.2',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,aGVsbG8=' } }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: 'ok' },
  ],
  stream: true,
  stream_options: { include_usage: true },
  temperature: 0.5,
  top_p: 0.9,
  max_tokens: 10,
  stop: ['x'],
  seed: 1,
  presence_penalty: 0,
  frequency_penalty: 0,
  response_format: { type: 'json_schema', json_schema: { name: 's', schema: { type: 'object' } } },
  tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
  tool_choice: 'auto',
  reasoning_effort: 'low',
}

/** Sends one body and checks the answer's shape; returns the status. */
async function probe(body: string, contentType = 'application/json'): Promise<number> {
  const res = await call('/v1/chat/completions', { method: 'POST', body, token: user.apiKey, headers: { 'content-type': contentType } })
  const text = await res.text()
  if (res.status >= 500) throw new Error(`${res.status} for ${body.slice(0, 300)}: ${text.slice(0, 300)}`)
  if (res.status >= 400) {
    const parsed = JSON.parse(text)
    if (typeof parsed.error?.message !== 'string' || typeof parsed.error?.type !== 'string') throw new Error(`bad envelope: ${text}`)
  } else if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    if (!text.trimEnd().endsWith('data: [DONE]')) throw new Error(`stream without [DONE]: ${text.slice(-300)}`)
  } else JSON.parse(text)
  return res.status
}

const anyJson = fc.jsonValue({ maxDepth: 4 })
const weird = fc.oneof(
  anyJson,
  fc.constantFrom(null, '', -1, 0, 1e308, -1e-308, 2 ** 53, 'data:image/png;base64,', '/etc/passwd', '\u0000', '__proto__', [], {}),
)
const paths = fc.constantFrom(
  [],
  ['messages'],
  ['messages', 0],
  ['messages', 1],
  ['messages', 1, 'content'],
  ['messages', 1, 'content', 1],
  ['messages', 1, 'content', 1, 'image_url'],
  ['messages', 2],
  ['messages', 2, 'tool_calls', 0],
  ['messages', 2, 'tool_calls', 0, 'function'],
  ['tools', 0],
  ['tools', 0, 'function'],
  ['response_format'],
  ['response_format', 'json_schema'],
  ['stream_options'],
)
const keys = fc.oneof(
  fc.constantFrom('model', 'messages', 'role', 'content', 'stream', 'temperature', 'max_tokens', 'stop', 'tools', 'tool_choice', 'type', 'url', 'arguments', 'name', 'n', 'image_url', 'function', 'text', 'tool_calls', 'constructor', '__proto__'),
  fc.string({ maxLength: 8 }),
  fc.nat({ max: 4 }).map(String),
)

const mutation = mutationOf(paths, keys, weird)

describe('fuzzing /v1/chat/completions', () => {
  test(
    'mutations of a full valid body: never a 5xx',
    async () => {
      const statuses = new Map<number, number>()
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), async (mutations, stream) => {
          const body = mutate(valid, mutations) as Record<string, unknown>
          if (body && typeof body === 'object' && !Array.isArray(body) && body.stream !== undefined) body.stream = stream
          const status = await probe(JSON.stringify(body))
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
        }),
        { numRuns: 1200 },
      )
      // The run covered both accepted and refused bodies.
      expect(statuses.get(200) ?? 0).toBeGreaterThan(100)
      expect(statuses.get(400) ?? 0).toBeGreaterThan(100)
    },
    30_000,
  )

  test(
    'random JSON values and random text: never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(anyJson.map((value) => JSON.stringify(value)), fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 })), async (body) => {
          expect(await probe(body)).toBeLessThan(500)
        }),
        { numRuns: 800 },
      )
    },
    30_000,
  )

  test(
    'bodies built from the schema’s own vocabulary: never a 5xx',
    async () => {
      const role = fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'bot')
      const content = fc.oneof(
        fc.string(),
        fc.constant(null),
        fc.array(
          fc.oneof(
            fc.record({ type: fc.constant('text'), text: fc.string() }),
            fc.record({ type: fc.constant('image_url'), image_url: fc.record({ url: fc.oneof(fc.string(), fc.base64String().map((b) => `data:image/png;base64,${b}`)) }) }),
          ),
          { maxLength: 3 },
        ),
      )
      const toolCall = fc.record({ id: fc.string(), type: fc.constant('function'), function: fc.record({ name: fc.string(), arguments: fc.oneof(fc.string(), fc.json()) }) })
      const message = fc.record(
        { role, content, tool_calls: fc.array(toolCall, { maxLength: 2 }), tool_call_id: fc.string() },
        { requiredKeys: ['role'] },
      )
      const number = fc.oneof(fc.double(), fc.integer(), fc.constant(null))
      const body = fc.record(
        {
          model: fc.oneof(fc.constantFrom('llama3.2', 'llava:7b', 'missing'), fc.string()),
          messages: fc.array(message, { maxLength: 4 }),
          stream: fc.boolean(),
          stream_options: fc.record({ include_usage: fc.boolean() }),
          temperature: number,
          top_p: number,
          max_tokens: number,
          max_completion_tokens: number,
          stop: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 20 })),
          seed: number,
          n: number,
          presence_penalty: number,
          frequency_penalty: number,
          response_format: fc.oneof(fc.record({ type: fc.constantFrom('text', 'json_object', 'json_schema') }), fc.record({ type: fc.constant('json_schema'), json_schema: fc.record({ name: fc.string(), schema: fc.dictionary(fc.string(), fc.jsonValue()) }) })),
          tools: fc.array(fc.record({ type: fc.constant('function'), function: fc.record({ name: fc.string({ maxLength: 70 }), parameters: fc.dictionary(fc.string(), fc.jsonValue()) }) }), { maxLength: 2 }),
          tool_choice: fc.oneof(fc.constantFrom('none', 'auto', 'required', 'any'), fc.record({ type: fc.constant('function'), function: fc.record({ name: fc.string() }) })),
          reasoning_effort: fc.constantFrom('none', 'minimal', 'low', 'medium', 'high', 'max'),
        },
        { requiredKeys: [] },
      )
      await fc.assert(
        fc.asyncProperty(body, async (value) => {
          expect(await probe(JSON.stringify(value))).toBeLessThan(500)
        }),
        { numRuns: 1500 },
      )
    },
    30_000,
  )

  test('random model ids in /v1/models/{id}: never a 5xx', async () => {
    const piece = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('%', '%2', '%E0%A4%A', '%2F', '/', ':', '..', '%00', '%25'))
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 6 }), async (pieces) => {
        const id = pieces.join('').replace(/[?#\s]/g, '')
        let path: string
        try {
          path = new URL(`http://localhost/v1/models/${id}`).pathname
        } catch {
          return
        }
        const res = await call(path, { token: user.apiKey })
        expect(res.status).toBeLessThan(500)
        await res.text()
      }),
      { numRuns: 500 },
    )
  })

  test('a non-JSON content type is refused with 415, not a crash', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream'])
      expect(await probe(JSON.stringify(valid), type)).toBe(415)
  })
})
