// Random and mutated bodies against POST /v1/messages (fast-check): whatever arrives, the answer
// is a 2xx or a 4xx in Anthropic's error envelope — never a 5xx, never a crash — and a stream
// always ends with message_stop.
import { afterAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { testApp } from './support/app'
import { mutate, mutationOf } from './support/body-mutations'
import { startFakeOllama } from './support/fake-ollama'
import { onePixelPng } from './support/png'
import { parseSse } from './support/sse'
import { seedUser } from './support/users'

const fake = await startFakeOllama({ chunks: 2, thinking: 'hm' })
// Thousands of requests from one user: the chat rate limit is off here (it has its own tests).
const { rt, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '0' })
const user = await seedUser(rt)
afterAll(async () => {
  await close()
  fake.stop()
})

const valid = {
  model: 'llama3.2',
  max_tokens: 3000,
  system: [{ type: 'text', text: 'Be brief.' }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: onePixelPng(1) } }] },
    { role: 'assistant', content: [{ type: 'thinking', thinking: 'hm', signature: '' }, { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }] }] },
  ],
  stream: true,
  temperature: 0.5,
  top_p: 0.9,
  top_k: 20,
  stop_sequences: ['x'],
  tools: [{ name: 'f', description: 'a tool', input_schema: { type: 'object' } }],
  tool_choice: { type: 'auto' },
  thinking: { type: 'enabled', budget_tokens: 2000 },
  output_config: { effort: 'low' },
  metadata: { user_id: 'u' },
}

/** Sends one body and checks the answer's shape; returns the status. */
async function probe(body: string): Promise<number> {
  const res = await call('/v1/messages', { method: 'POST', body, token: user.apiKey, headers: { 'content-type': 'application/json' } })
  const text = await res.text()
  if (res.status >= 500) throw new Error(`${res.status} for ${body.slice(0, 300)}: ${text.slice(0, 300)}`)
  if (res.status >= 400) {
    const parsed = JSON.parse(text)
    if (parsed.type !== 'error' || typeof parsed.error?.message !== 'string' || typeof parsed.error?.type !== 'string') throw new Error(`bad envelope: ${text}`)
  } else if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    if (parseSse(text).at(-1)?.event !== 'message_stop') throw new Error(`stream without message_stop: ${text.slice(-300)}`)
  } else if (JSON.parse(text).type !== 'message') throw new Error(`not a message: ${text.slice(0, 300)}`)
  return res.status
}

const anyJson = fc.jsonValue({ maxDepth: 4 })
const weird = fc.oneof(anyJson, fc.constantFrom(null, '', -1, 0, 1e308, 2 ** 53, 'base64', 'url', 'tool_use', 'tool_result', 'image', '\u0000', '__proto__', [], {}))
const paths = fc.constantFrom(
  [],
  ['system'],
  ['system', 0],
  ['messages'],
  ['messages', 0],
  ['messages', 0, 'content'],
  ['messages', 0, 'content', 1],
  ['messages', 0, 'content', 1, 'source'],
  ['messages', 1, 'content'],
  ['messages', 1, 'content', 1],
  ['messages', 2, 'content', 0],
  ['messages', 2, 'content', 0, 'content'],
  ['tools', 0],
  ['tool_choice'],
  ['thinking'],
  ['output_config'],
  ['metadata'],
)
const keys = fc.oneof(
  fc.constantFrom('model', 'max_tokens', 'messages', 'role', 'content', 'type', 'text', 'source', 'data', 'media_type', 'input', 'id', 'name', 'tool_use_id', 'input_schema', 'budget_tokens', 'effort', 'format', 'user_id', 'display', '__proto__'),
  fc.string({ maxLength: 8 }),
  fc.nat({ max: 3 }).map(String),
)

const mutation = mutationOf(paths, keys, weird)

describe('fuzzing /v1/messages', () => {
  test('the valid body is answered, streamed and not', async () => {
    expect(await probe(JSON.stringify(valid))).toBe(200)
    expect(await probe(JSON.stringify({ ...valid, stream: false }))).toBe(200)
  })

  test(
    'mutations of a full valid body: never a 5xx',
    async () => {
      const statuses = new Map<number, number>()
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), async (mutations, stream) => {
          const body = mutate(valid, mutations) as Record<string, unknown>
          if (body && typeof body === 'object' && !Array.isArray(body) && body.stream !== undefined) body.stream = stream
          const status = await probe(JSON.stringify(body))
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
        }),
        { numRuns: 1000 },
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
        fc.asyncProperty(fc.oneof(anyJson.map((value) => JSON.stringify(value)), fc.string({ maxLength: 200 })), async (body) => {
          expect(await probe(body)).toBeLessThan(500)
        }),
        { numRuns: 500 },
      )
    },
    30_000,
  )
})
