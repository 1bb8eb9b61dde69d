// Chat parameters beyond the basics (issue 16, part 4), through the HTTP surface: logprobs and
// legacy functions with the official `openai` client on a real socket, streamed and not; every
// reasoning effort and `reasoning: {effort}` mapped to Ollama's `think`; a tool message's name
// passed on; `parallel_tool_calls: false`; `n` choices from n upstream calls (one failing, or
// the client leaving, ends them all upstream); `user` and `metadata` on the log row (and the
// admin's log view); parameters Ollama cannot honour refused with a 400 naming them; the response
// cache kept out of what it cannot replay; the answers validated against OpenAI's schemas.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { factsOf } from '../src/telemetry/facts'
import { expectConforms, validatorOf } from './support/openai-schemas'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { logRows, settle } from './support/log'
import { chunksOf, parseSse } from './support/sse'
import { seedUser } from './support/users'

const fake = await startFakeOllama({ chunks: 3 })
const { rt, app, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '0' })
const server = listen(app)
const user = await seedUser(rt)
const admin = await seedUser(rt, { role: 'admin' })
const openai = new OpenAI({ apiKey: user.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const hello = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'Hello' }] }
const weather = { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }
const lastSent = () => fake.chats.at(-1)!.body

/** Sends a chat request through app.handle, returning the response and the facts recorded for its log row. */
async function chat(body: unknown) {
  const text = JSON.stringify(body)
  const request = new Request('http://localhost/v1/chat/completions', {
    method: 'POST',
    body: text,
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), authorization: `Bearer ${user.apiKey}` },
  })
  const res = await app.handle(request)
  return { res, facts: factsOf(request) }
}

const bytes = (text: string) => [...new TextEncoder().encode(text)]

describe('logprobs', () => {
  test('asked for: passed to Ollama, answered as choices[].logprobs.content with token, logprob, bytes and top_logprobs', async () => {
    const completion = await openai.chat.completions.create({ ...hello, logprobs: true, top_logprobs: 2 })
    expect(lastSent()).toMatchObject({ logprobs: true, top_logprobs: 2 })
    expect(completion.choices[0]!.logprobs).toEqual({
      content: ['tok0 ', 'tok1 ', 'tok2 '].map((token, i) => ({
        token,
        logprob: -0.25 * (i + 1),
        bytes: bytes(token),
        top_logprobs: [
          { token, logprob: -0.25 * (i + 1), bytes: bytes(token) },
          { token: 'alt1', logprob: -0.25 * (i + 1) - 1, bytes: bytes('alt1') },
        ],
      })),
      refusal: null,
    })
  })

  test('without top_logprobs each token comes with an empty top_logprobs list; not asked for, logprobs is null and Ollama is not asked', async () => {
    const asked = await openai.chat.completions.create({ ...hello, logprobs: true })
    expect(lastSent().top_logprobs).toBeUndefined()
    expect(asked.choices[0]!.logprobs!.content!.map((entry) => entry.top_logprobs)).toEqual([[], [], []])
    const plain = await openai.chat.completions.create(hello)
    expect(lastSent().logprobs).toBeUndefined()
    expect(plain.choices[0]!.logprobs).toBeNull()
  })

  test('streamed: each chunk carries the logprobs of its tokens', async () => {
    const stream = await openai.chat.completions.create({ ...hello, stream: true, logprobs: true, top_logprobs: 1 })
    const seen: { content: string | null | undefined; tokens: string[] | null }[] = []
    for await (const chunk of stream)
      for (const choice of chunk.choices)
        seen.push({ content: choice.delta.content, tokens: choice.logprobs?.content?.map((entry) => entry.token) ?? null })
    const carrying = seen.filter((entry) => entry.tokens)
    expect(carrying.map((entry) => entry.tokens)).toEqual([['tok0 '], ['tok1 '], ['tok2 ']])
    expect(carrying.map((entry) => entry.content)).toEqual(['tok0 ', 'tok1 ', 'tok2 '])
  })

  test('a message that carries only logprobs (Ollama holding back text it parses) still gets its chunk; bytes that Ollama leaves out (an empty token) are the token\'s own', async () => {
    // Ollama's wire: a message with empty content and its logprobs beside it, the empty token without bytes.
    fake.set({ tokens: ['a', '', 'é'] })
    const { res } = await chat({ ...hello, stream: true, logprobs: true })
    const chunks = chunksOf(parseSse(await res.text()))
    const logprobs = chunks.map((chunk: any) => chunk.choices[0]?.logprobs).filter(Boolean)
    expect(logprobs.map((entry: any) => entry.content[0].token)).toEqual(['a', '', 'é'])
    expect(logprobs.map((entry: any) => entry.content[0].bytes)).toEqual([[0x61], [], [0xc3, 0xa9]])
  })

  test('top_logprobs without logprobs, or out of range → 400 naming it', async () => {
    for (const body of [{ ...hello, top_logprobs: 3 }, { ...hello, logprobs: true, top_logprobs: 21 }, { ...hello, logprobs: true, top_logprobs: 1.5 }]) {
      const { res } = await chat(body)
      expect(res.status).toBe(400)
      expect((await res.json()).error).toMatchObject({ param: 'top_logprobs', type: 'invalid_request_error' })
    }
    expect(fake.chats).toHaveLength(0)
  })
})

describe('reasoning effort → think', () => {
  const cases: [string, unknown][] = [
    ['none', false],
    ['minimal', 'low'],
    ['low', 'low'],
    ['medium', 'medium'],
    ['high', 'high'],
    ['xhigh', 'high'],
  ]
  test.each(cases)('reasoning_effort %s → think %p, and reasoning: {effort} the same', async (effort, think) => {
    expect((await chat({ ...hello, reasoning_effort: effort })).res.status).toBe(200)
    expect(lastSent().think).toBe(think)
    expect((await chat({ ...hello, reasoning: { effort } })).res.status).toBe(200)
    expect(lastSent().think).toBe(think)
  })

  test('no effort: think is not sent; both forms agreeing is fine; disagreeing or unknown → 400', async () => {
    await chat(hello)
    expect('think' in lastSent()).toBe(false)
    expect((await chat({ ...hello, reasoning_effort: 'low', reasoning: { effort: 'low' } })).res.status).toBe(200)
    fake.reset()
    for (const [body, param] of [
      [{ ...hello, reasoning_effort: 'low', reasoning: { effort: 'high' } }, 'reasoning.effort'],
      [{ ...hello, reasoning: { effort: 'max' } }, 'reasoning.effort'],
      [{ ...hello, reasoning: 'high' }, 'reasoning'],
      [{ ...hello, reasoning_effort: 'max' }, 'reasoning_effort'],
    ] as const) {
      const { res } = await chat(body)
      expect(res.status).toBe(400)
      expect((await res.json()).error.param).toBe(param)
    }
    expect(fake.chats).toHaveLength(0)
  })
})

describe('legacy functions', () => {
  test('functions and function_call map to tools; the call comes back as message.function_call, finish_reason function_call', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_weather', arguments: { city: 'Rome' } }] })
    const completion = await openai.chat.completions.create({ ...hello, functions: [weather], function_call: { name: 'get_weather' } })
    expect(lastSent().tools).toEqual([{ type: 'function', function: weather }])
    const [choice] = completion.choices
    expect(choice!.finish_reason).toBe('function_call')
    // A legacy reply holds one call: the first.
    expect(choice!.message.function_call).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' })
    expect(choice!.message.tool_calls).toBeUndefined()
    expect(choice!.message.content).toBeNull()
  })

  test('streamed: delta.function_call, then finish_reason function_call', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] })
    const stream = await openai.chat.completions.create({ ...hello, stream: true, functions: [weather] })
    const deltas: any[] = []
    const reasons: (string | null)[] = []
    for await (const chunk of stream)
      for (const choice of chunk.choices) {
        deltas.push(choice.delta)
        reasons.push(choice.finish_reason)
      }
    expect(deltas.filter((delta) => delta.function_call).map((delta) => delta.function_call)).toEqual([{ name: 'get_weather', arguments: '{"city":"Paris"}' }])
    expect(deltas.some((delta) => delta.tool_calls)).toBe(false)
    expect(reasons.at(-1)).toBe('function_call')
  })

  test('function_call "none" sends no tools; the history in legacy form reaches Ollama as a tool call and its named result', async () => {
    await chat({ ...hello, functions: [weather], function_call: 'none' })
    expect(lastSent().tools).toBeUndefined()
    const res = (
      await chat({
        model: 'llama3.2',
        functions: [weather],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { role: 'function', name: 'get_weather', content: '21 °C' },
        ],
      })
    ).res
    expect(res.status).toBe(200)
    expect(lastSent().messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
      { role: 'tool', content: '21 °C', tool_name: 'get_weather' },
    ])
  })

  test("a tool message's name is passed on as Ollama's tool_name (before the name its call id would give)", async () => {
    await chat({
      model: 'llama3.2',
      messages: [
        { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'unknown', name: 'get_time', content: 'noon' },
      ],
    })
    expect(lastSent().messages.slice(1)).toEqual([
      { role: 'tool', content: 'sunny', tool_name: 'get_weather' },
      { role: 'tool', content: 'noon', tool_name: 'get_time' },
    ])
  })

  test('bad legacy input → 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ ...hello, functions: [weather], tools: [{ type: 'function', function: weather }] }, 'functions'],
      [{ ...hello, function_call: 'auto' }, 'function_call'],
      [{ ...hello, functions: [weather], tool_choice: 'auto' }, 'tool_choice'],
      [{ ...hello, functions: [weather], function_call: { name: 'other' } }, 'function_call.name'],
      [{ ...hello, functions: [weather], function_call: 'sometimes' }, 'function_call'],
      [{ ...hello, functions: [] }, 'functions'],
      [{ model: 'llama3.2', messages: [{ role: 'function', content: 'x' }] }, 'messages.0.name'],
      [{ model: 'llama3.2', messages: [{ role: 'assistant', function_call: { name: 'f', arguments: '{oops' } }] }, 'messages.0.function_call.arguments'],
    ]
    for (const [body, param] of cases) {
      const { res } = await chat(body)
      expect(res.status).toBe(400)
      expect((await res.json()).error.param).toBe(param)
    }
    expect(fake.chats).toHaveLength(0)
  })
})

describe('parallel_tool_calls', () => {
  const calls = [
    { name: 'get_weather', arguments: { city: 'Paris' } },
    { name: 'get_weather', arguments: { city: 'Rome' } },
  ]

  test('false keeps only the first tool call of a reply, streamed or not; default keeps them all', async () => {
    fake.set({ toolCalls: calls })
    const tools = [{ type: 'function' as const, function: weather }]
    const all = await openai.chat.completions.create({ ...hello, tools })
    expect(all.choices[0]!.message.tool_calls).toHaveLength(2)
    const one = await openai.chat.completions.create({ ...hello, tools, parallel_tool_calls: false })
    expect(one.choices[0]!.message.tool_calls!.map((call: any) => call.function.arguments)).toEqual(['{"city":"Paris"}'])
    expect(one.choices[0]!.finish_reason).toBe('tool_calls')

    const stream = await openai.chat.completions.create({ ...hello, tools, parallel_tool_calls: false, stream: true })
    const streamed: unknown[] = []
    for await (const chunk of stream) for (const choice of chunk.choices) streamed.push(...(choice.delta.tool_calls ?? []))
    expect(streamed).toHaveLength(1)
  })
})

describe('n', () => {
  test('n choices from n upstream calls: indexed 0..n-1 under one id, usage summed, each call with its own seed', async () => {
    const { res, facts } = await chat({ ...hello, n: 3, seed: 7 })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(fake.chats).toHaveLength(3)
    expect(fake.chats.map((each) => each.body.options.seed).sort()).toEqual([7, 8, 9])
    expect(body.choices.map((choice: any) => [choice.index, choice.message.content, choice.finish_reason])).toEqual([
      [0, 'tok0 tok1 tok2 ', 'stop'],
      [1, 'tok0 tok1 tok2 ', 'stop'],
      [2, 'tok0 tok1 tok2 ', 'stop'],
    ])
    const prompt = body.usage.prompt_tokens
    expect(prompt % 3).toBe(0)
    expect(body.usage).toMatchObject({ completion_tokens: 9, total_tokens: prompt + 9 })
    expect(facts).toMatchObject({ promptTokens: prompt, completionTokens: 9, outcome: 'ok' })
  })

  test('with the openai client, logprobs on every choice', async () => {
    const completion = await openai.chat.completions.create({ ...hello, n: 2, logprobs: true })
    expect(completion.choices.map((choice) => choice.logprobs!.content!.length)).toEqual([3, 3])
  })

  test('the choices failing upstream fail the request: 502 upstream_error', async () => {
    fake.set({ failAfter: 1, failWith: 'error' })
    const { res, facts } = await chat({ ...hello, n: 2 })
    expect(res.status).toBe(502)
    expect((await res.json()).error.message).toContain('llama runner process has terminated')
    expect(facts.outcome).toBe('upstream_error')
  })

  test('one choice failing closes the others upstream (two hosts: the choices spread over them, one dies)', async () => {
    const steady = await startFakeOllama({ chunks: 50, chunkDelayMs: 20 })
    const dying = await startFakeOllama({ failAfter: 1, failWith: 'drop', chunkDelayMs: 20 })
    const pair = await testApp({ OLLAMA_BASE_URL: `${steady.url},${dying.url}`, RATE_LIMIT_CHAT: '0' })
    try {
      const caller = await seedUser(pair.rt)
      const res = await pair.call('/v1/chat/completions', { method: 'POST', json: { ...hello, n: 2 }, token: caller.apiKey })
      expect(res.status).toBe(502)
      expect([steady.chats.length, dying.chats.length]).toEqual([1, 1])
      for (let waited = 0; steady.aborted.length === 0 && waited < 2000; waited += 5) await Bun.sleep(5)
      expect(steady.aborted).toHaveLength(1)
      expect(steady.aborted[0]!.chunksSent).toBeLessThan(50)
    } finally {
      await pair.close()
      steady.stop()
      dying.stop()
    }
  })

  test('a client that goes away cancels every choice upstream', async () => {
    fake.set({ chunks: 50, chunkDelayMs: 20 })
    const controller = new AbortController()
    const pending = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.apiKey}` },
      body: JSON.stringify({ ...hello, n: 3 }),
    }).catch((error: Error) => error)
    for (let waited = 0; fake.chats.length < 3 && waited < 2000; waited += 5) await Bun.sleep(5)
    expect(fake.chats).toHaveLength(3)
    controller.abort()
    expect(await pending).toBeInstanceOf(Error)
    for (let waited = 0; fake.aborted.length < 3 && waited < 2000; waited += 5) await Bun.sleep(5)
    expect(fake.aborted).toHaveLength(3)
    expect(fake.aborted.every((each) => each.chunksSent < 50)).toBe(true)
  })

  test('n with stream: true, or above 8 → 400 naming n, before anything goes upstream', async () => {
    for (const body of [{ ...hello, n: 2, stream: true }, { ...hello, n: 9 }, { ...hello, n: 0 }]) {
      const { res } = await chat(body)
      expect(res.status).toBe(400)
      expect((await res.json()).error.param).toBe('n')
    }
    expect(fake.chats).toHaveLength(0)
  })
})

describe('user and metadata', () => {
  test('recorded on the log row, and shown by the admin log view', async () => {
    const metadata = { team: 'search', 'ticket-id': 'T-1' }
    const completion = await openai.chat.completions.create({ ...hello, user: 'end-user-42', metadata })
    // Neither reaches Ollama.
    expect(lastSent().user).toBeUndefined()
    expect(lastSent().metadata).toBeUndefined()
    await settle(rt)
    const [row] = await logRows(rt, (each) => each.completionId === completion.id)
    expect(row).toMatchObject({ endUser: 'end-user-42', metadata })
    const page = await (await call('/api/admin/logs/?limit=5', { token: admin.accessToken })).json()
    expect(page.items.find((item: any) => item.completionId === completion.id)).toMatchObject({ endUser: 'end-user-42', metadata })
    // A request without them: null.
    const plain = await openai.chat.completions.create(hello)
    await settle(rt)
    expect((await logRows(rt, (each) => each.completionId === plain.id))[0]).toMatchObject({ endUser: null, metadata: null })
  })

  test('a request refused upstream is logged with them too', async () => {
    const { res } = await chat({ ...hello, model: 'no-such-model', user: 'u-1' })
    expect(res.status).toBe(404)
    await settle(rt)
    const rows = await logRows(rt, (each) => each.endUser === 'u-1')
    expect(rows).toHaveLength(1)
    expect(rows[0]!.status).toBe(404)
  })

  test('over their bounds, or of the wrong type → 400 naming the field, never echoing it', async () => {
    const pairs = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 'v']))
    const cases: [unknown, string][] = [
      [{ ...hello, user: 'u'.repeat(257) }, 'user'],
      [{ ...hello, user: 5 }, 'user'],
      [{ ...hello, metadata: pairs(17) }, 'metadata'],
      [{ ...hello, metadata: { ['k'.repeat(65)]: 'v' } }, 'metadata'],
      [{ ...hello, metadata: { key: 'secret-'.repeat(80) } }, 'metadata'],
      [{ ...hello, metadata: { key: 5 } }, 'metadata'],
      [{ ...hello, metadata: ['a'] }, 'metadata'],
      [{ ...hello, metadata: 'text' }, 'metadata'],
    ]
    for (const [body, param] of cases) {
      const { res } = await chat(body)
      expect(res.status).toBe(400)
      const text = await res.text()
      expect(JSON.parse(text).error.param).toBe(param)
      expect(text).not.toContain('secret-')
    }
    expect(fake.chats).toHaveLength(0)
    // Refused, they are not logged: the log keeps only what passed the bounds.
    await settle(rt)
    const refused = await logRows(rt, (row) => row.status === 400 && row.userId === user.userId)
    expect(refused.length).toBeGreaterThanOrEqual(cases.length)
    expect(refused.every((row) => row.endUser === null && row.metadata === null)).toBe(true)
    // At the bounds: fine.
    const { res } = await chat({ ...hello, user: 'u'.repeat(256), metadata: { ...pairs(15), ['k'.repeat(64)]: 'v'.repeat(512) } })
    expect(res.status).toBe(200)
  })
})

describe('parameters Ollama cannot honour', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['audio output', { audio: { voice: 'alloy', format: 'wav' } }, 'audio'],
    ['the audio modality', { modalities: ['text', 'audio'] }, 'modalities'],
    ['predicted outputs', { prediction: { type: 'content', content: 'x' } }, 'prediction'],
    ['web search', { web_search_options: {} }, 'web_search_options'],
    ['token biases', { logit_bias: { '50256': -100 } }, 'logit_bias'],
    ['moderation', { moderation: { model: 'omni-moderation-latest' } }, 'moderation'],
    ['a verbosity', { verbosity: 'low' }, 'verbosity'],
  ]
  test.each(cases)('%s → 400 unsupported_parameter naming it, nothing sent upstream', async (_name, extra, param) => {
    const { res } = await chat({ ...hello, ...extra })
    expect(res.status).toBe(400)
    const { error } = await res.json()
    expect(error).toMatchObject({ type: 'invalid_request_error', param, code: 'unsupported_parameter' })
    expect(error.message).toContain('not supported')
    expect(fake.chats).toHaveLength(0)
  })

  test('their harmless values, and the parameters that are safe to ignore, are accepted; none reaches Ollama', async () => {
    const { res } = await chat({
      ...hello,
      modalities: ['text'],
      logit_bias: {},
      verbosity: 'medium',
      audio: null,
      prediction: null,
      store: true,
      service_tier: 'auto',
      safety_identifier: 'abc',
      prompt_cache_key: 'k',
      prompt_cache_retention: '24h',
    })
    expect(res.status).toBe(200)
    const sent = JSON.stringify(lastSent())
    for (const name of ['modalities', 'logit_bias', 'verbosity', 'store', 'service_tier', 'safety_identifier', 'prompt_cache']) expect(sent).not.toContain(name)
  })
})

describe('with the response cache on', () => {
  let cached: Awaited<ReturnType<typeof testApp>>
  let cachedUser: Awaited<ReturnType<typeof seedUser>>
  beforeAll(async () => {
    cached = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '0', CACHE_TTL_SECONDS: '60' })
    cachedUser = await seedUser(cached.rt)
  })
  afterAll(() => cached.close())
  const ask = (body: Record<string, unknown>) =>
    cached.call('/v1/chat/completions', { method: 'POST', json: { ...hello, ...body }, token: cachedUser.apiKey })

  test('several choices, or logprobs, are always asked of Ollama (an entry is one choice without logprobs)', async () => {
    expect((await ask({})).headers.get('x-cache')).toBe('MISS')
    expect((await ask({})).headers.get('x-cache')).toBe('HIT')
    fake.reset()
    const several = await ask({ n: 2 })
    expect(several.headers.get('x-cache')).toBe('MISS')
    expect((await several.json()).choices).toHaveLength(2)
    expect(fake.chats).toHaveLength(2)
    for (let i = 0; i < 2; i++) {
      const withLogprobs = await ask({ logprobs: true })
      expect(withLogprobs.headers.get('x-cache')).toBe('MISS')
      expect((await withLogprobs.json()).choices[0].logprobs.content).toHaveLength(3)
    }
    expect(fake.chats).toHaveLength(4)
  })

  test("a hit is logged with its own user and metadata (they are no part of the cache's key)", async () => {
    await ask({ messages: [{ role: 'user', content: 'cached labels' }], user: 'first', metadata: { run: '1' } })
    const hit = await ask({ messages: [{ role: 'user', content: 'cached labels' }], user: 'second', metadata: { run: '2' } })
    expect(hit.headers.get('x-cache')).toBe('HIT')
    const { id } = await hit.json()
    await settle(cached.rt)
    expect((await logRows(cached.rt, (row) => row.completionId === id))[0]).toMatchObject({ cached: true, endUser: 'second', metadata: { run: '2' } })
  })
})

describe("OpenAI's own schemas", () => {
  test('completions and chunks with logprobs, legacy function calls and several choices validate', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] })
    const bodies: Record<string, unknown>[] = [
      { ...hello, logprobs: true, top_logprobs: 2 },
      { ...hello, n: 2, logprobs: true },
      { ...hello, functions: [weather] },
      { ...hello, tools: [{ type: 'function', function: weather }], parallel_tool_calls: false },
    ]
    for (const body of bodies) {
      const { res } = await chat(body)
      expect(res.status).toBe(200)
      expectConforms('CreateChatCompletionResponse', await res.json())
      if (body.n) continue
      const { res: streamed } = await chat({ ...body, stream: true })
      const chunks = chunksOf(parseSse(await streamed.text()))
      expect(chunks.length).toBeGreaterThan(1)
      for (const chunk of chunks) expectConforms('CreateChatCompletionStreamResponse', chunk)
    }
    // Not a schema that accepts anything: a legacy call without its name fails it.
    expect(validatorOf('CreateChatCompletionResponse')({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, finish_reason: 'function_call', logprobs: null, message: { role: 'assistant', content: null, refusal: null, function_call: { arguments: '{}' } } }] })).toBe(false)
  })
})
