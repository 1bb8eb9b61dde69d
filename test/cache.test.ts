// The response cache (CACHE_TTL_SECONDS) through the HTTP surface, on both of its stores (this
// process's memory without REDIS_URL, Redis with it): a miss then a hit that leaves Ollama alone,
// a stored answer replayed streamed or not whichever way it was first asked for (parsed by the
// official `openai` SDK over a real listener), the key (per user or for everyone; the parameters
// that change the answer and those that do not), Cache-Control, expiry, what is never stored
// (errors, cancelled and cut streams, oversized answers), the limits that still apply to hits,
// hits in the request log and the dashboard; the memory LRU's bound; Redis lost mid-run, and two
// gateways sharing one Redis. Last, migration 0010 on a database with traffic already logged.
import { Database } from 'bun:sqlite'
import { RedisClient, SQL } from 'bun'
import { afterAll, afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { loadConfig } from '../src/config'
import { migrations, type Migration } from '../src/db/migrations'
import { migrate as migratePostgres } from '../src/db/postgres/migrate'
import { migrate as migrateSqlite } from '../src/db/sqlite/migrate'
import { redisOf } from '../src/shared/redis'
import { testApp } from './support/app'
import { adminSql, onPostgres, postgresReachable, postgresTestUrl, schemaPrefix, testDatabaseUrl } from './support/database'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { logRows, settle } from './support/log'
import { redisReachable, redisTestUrl, testPrefix } from './support/redis'
import { tcpProxy } from './support/tcp-proxy'
import { chunksOf, parseSse } from './support/sse'
import { rollupsDisagreeingWithTheLog } from './support/tables'
import { seedUser } from './support/users'

// Real listeners, an expiry to wait out, Redis lost and found again: seconds, not bun's default 5.
setDefaultTimeout(20_000)

const redisUp = await redisReachable('the Redis store of test/cache.test.ts')
const postgresUp = await postgresReachable('the PostgreSQL migration test of test/cache.test.ts')

const fake = await startFakeOllama()
beforeEach(() => fake.reset())
afterAll(() => fake.stop())

/** Dollars per million tokens: a hit's saving is then something to compare. */
const PRICES = JSON.stringify({ 'llama3.2': { input: 1000, output: 2000 } })
const MODEL = 'llama3.2'
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
}

type App = Awaited<ReturnType<typeof testApp>>
type Credentials = { token?: string; headers?: Record<string, string> }

const opened: App[] = []
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close()
})

/** A question no other test asks. */
const prompt = () => `question ${Bun.randomUUIDv7()}`

/** A chat completion for `content`, with extra body fields. */
const ask = (app: App, token: string, content: string, fields: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  app.call('/v1/chat/completions', { method: 'POST', token, headers, json: { model: MODEL, messages: [{ role: 'user', content }], ...fields } })

/** A gateway with the cache on (a minute) and a user of its own. */
async function gateway(env: Record<string, string> = {}) {
  const app = await testApp({ OLLAMA_BASE_URL: fake.url, CACHE_TTL_SECONDS: '60', MODEL_PRICES: PRICES, ...env })
  opened.push(app)
  const user = await seedUser(app.rt)
  return {
    ...app,
    user,
    ask: (content: string, fields: Record<string, unknown> = {}, as: Credentials = {}) => ask(app, as.token ?? user.apiKey, content, fields, as.headers),
  }
}

const xCache = (res: Response) => res.headers.get('x-cache')

/** Reads a response, checking its status and X-Cache. */
async function expectAnswer(res: Response, cache: 'HIT' | 'MISS' | null) {
  const text = await res.text()
  expect({ status: res.status, cache: xCache(res) }).toEqual({ status: 200, cache })
  return text
}

const waitUntil = async (condition: () => boolean | Promise<boolean>, timeoutMs = 5_000) => {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); await Bun.sleep(20))
    if (Date.now() > deadline) throw new Error('condition not met in time')
}

const stores = [
  { name: 'in memory (no REDIS_URL)', enabled: true, env: (): Record<string, string> => ({}) },
  { name: 'in Redis', enabled: redisUp, env: (): Record<string, string> => ({ REDIS_URL: redisTestUrl, REDIS_PREFIX: testPrefix() }) },
]

for (const store of stores)
  describe.if(store.enabled)(`response cache ${store.name}`, () => {
    const cached = (env: Record<string, string> = {}) => gateway({ ...store.env(), ...env })

    test('a miss, then a hit that Ollama never sees: the same answer, as a completion of its own', async () => {
      const gw = await cached()
      const question = prompt()
      const miss = JSON.parse(await expectAnswer(await gw.ask(question), 'MISS'))
      const hit = JSON.parse(await expectAnswer(await gw.ask(question), 'HIT'))
      expect(fake.chats).toHaveLength(1)
      expect(hit.choices).toEqual(miss.choices)
      expect(hit.usage).toEqual(miss.usage)
      expect(hit.model).toBe(MODEL)
      // Feedback and the log name a completion by its id: a replay is a completion of its own.
      expect(hit.id).not.toBe(miss.id)
    })

    test('the openai SDK over a real listener: a replay streamed from a plain answer, and plain from a streamed one', async () => {
      const gw = await cached()
      const server = listen(gw.app)
      try {
        const openai = new OpenAI({ apiKey: gw.user.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
        const first = [{ role: 'user' as const, content: prompt() }]
        const plain = await openai.chat.completions.create({ model: MODEL, messages: first })
        const { data: replay, response } = await openai.chat.completions
          .create({ model: MODEL, messages: first, stream: true, stream_options: { include_usage: true } })
          .withResponse()
        expect(response.headers.get('x-cache')).toBe('HIT')
        let text = ''
        const chunks = []
        for await (const chunk of replay) {
          chunks.push(chunk)
          text += chunk.choices[0]?.delta.content ?? ''
        }
        expect(text).toBe(plain.choices[0]!.message.content!)
        expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop')
        // With include_usage the usage-only chunk comes last, as live.
        expect(chunks.at(-1)!.choices).toEqual([])
        expect(chunks.at(-1)!.usage).toEqual(plain.usage)

        const second = [{ role: 'user' as const, content: prompt() }]
        let streamed = ''
        let usage: unknown
        for await (const chunk of await openai.chat.completions.create({ model: MODEL, messages: second, stream: true })) {
          streamed += chunk.choices[0]?.delta.content ?? ''
          usage ??= chunk.usage ?? undefined
        }
        const { data: again, response: againResponse } = await openai.chat.completions.create({ model: MODEL, messages: second }).withResponse()
        expect(againResponse.headers.get('x-cache')).toBe('HIT')
        expect(again.choices[0]!.message.content).toBe(streamed)
        expect(again.usage).toEqual(usage as typeof again.usage)
        // The SDK's own stream helper assembles a replay like a live stream.
        const assembled = await openai.chat.completions.stream({ model: MODEL, messages: second }).finalChatCompletion()
        expect(assembled.choices[0]!.message.content).toBe(streamed)
        expect(fake.chats).toHaveLength(2)
      } finally {
        server.stop()
      }
    })

    test('tool calls and reasoning are replayed as they were first sent (ids included)', async () => {
      const gw = await cached()
      fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] })
      const question = prompt()
      const miss = JSON.parse(await expectAnswer(await gw.ask(question, { tools: [weatherTool] }), 'MISS'))
      expect(miss.choices[0].finish_reason).toBe('tool_calls')
      const events = parseSse(await expectAnswer(await gw.ask(question, { tools: [weatherTool], stream: true }), 'HIT'))
      const chunks = chunksOf(events)
      const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? [])
      expect(calls.map(({ index: _, ...call }: { index: number }) => call)).toEqual(miss.choices[0].message.tool_calls)
      expect(chunks.at(-1).choices[0].finish_reason).toBe('tool_calls')
      expect(events.at(-1)!.data).toBe('[DONE]')

      fake.set({ toolCalls: undefined, thinking: 'Let me think.' })
      const thought = prompt()
      const live = JSON.parse(await expectAnswer(await gw.ask(thought, { reasoning_effort: 'low' }), 'MISS'))
      expect(live.choices[0].message.reasoning).toBe('Let me think.')
      const replayed = JSON.parse(await expectAnswer(await gw.ask(thought, { reasoning_effort: 'low' }), 'HIT'))
      expect(replayed.choices).toEqual(live.choices)
      expect(fake.chats).toHaveLength(2)
    })

    test('scoped to the user (any of their credentials) by default; CACHE_SCOPE=global shares it', async () => {
      const gw = await cached()
      const other = await seedUser(gw.rt)
      const question = prompt()
      await expectAnswer(await gw.ask(question), 'MISS')
      await expectAnswer(await gw.ask(question, {}, { token: gw.user.accessToken }), 'HIT')
      await expectAnswer(await gw.ask(question, {}, { token: other.apiKey }), 'MISS')
      expect(fake.chats).toHaveLength(2)

      const shared = await cached({ CACHE_SCOPE: 'global' })
      const stranger = await seedUser(shared.rt)
      await expectAnswer(await shared.ask(question), 'MISS')
      await expectAnswer(await shared.ask(question, {}, { token: stranger.apiKey }), 'HIT')
      expect(fake.chats).toHaveLength(3)
    })

    test('Cache-Control: no-cache skips reading the cache (and refreshes it), no-store skips reading and writing it', async () => {
      const gw = await cached()
      const noCache = { headers: { 'cache-control': 'max-age=0, No-Cache' } }
      const noStore = { headers: { 'cache-control': 'no-store' } }
      const stored = prompt()
      await expectAnswer(await gw.ask(stored), 'MISS')
      await expectAnswer(await gw.ask(stored, {}, noCache), 'MISS')
      await expectAnswer(await gw.ask(stored, {}, noStore), 'MISS')
      await expectAnswer(await gw.ask(stored), 'HIT')
      expect(fake.chats).toHaveLength(3)

      const notKept = prompt()
      await expectAnswer(await gw.ask(notKept, {}, noStore), 'MISS')
      await expectAnswer(await gw.ask(notKept), 'MISS')
      const kept = prompt()
      await expectAnswer(await gw.ask(kept, {}, noCache), 'MISS')
      await expectAnswer(await gw.ask(kept), 'HIT')
      expect(fake.chats).toHaveLength(6)
    })

    test('an entry expires after CACHE_TTL_SECONDS', async () => {
      const gw = await cached({ CACHE_TTL_SECONDS: '1' })
      const question = prompt()
      await expectAnswer(await gw.ask(question), 'MISS')
      await expectAnswer(await gw.ask(question), 'HIT')
      await Bun.sleep(1_100)
      await expectAnswer(await gw.ask(question), 'MISS')
      expect(fake.chats).toHaveLength(2)
    })

    test('every parameter that changes the answer makes another entry; how the answer is sent, null fields and key order do not', async () => {
      const gw = await cached()
      const question = prompt()
      const base = { temperature: 0.5 }
      await expectAnswer(await gw.ask(question, base), 'MISS')
      const different = [
        { temperature: 0.6 },
        { ...base, top_p: 0.9 },
        { ...base, seed: 7 },
        { ...base, max_tokens: 3 },
        { ...base, stop: ['tok3'] },
        { ...base, presence_penalty: 1 },
        { ...base, frequency_penalty: 1 },
        { ...base, response_format: { type: 'json_object' } },
        { ...base, tools: [weatherTool] },
        { ...base, tools: [weatherTool], tool_choice: 'none' },
        { ...base, reasoning_effort: 'low' },
        { ...base, model: 'llava:7b' },
        { ...base, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: question }] },
      ]
      for (const fields of different) await expectAnswer(await gw.ask(question, fields), 'MISS')
      for (const fields of different) await expectAnswer(await gw.ask(question, fields), 'HIT')
      expect(fake.chats).toHaveLength(1 + different.length)

      const same = [
        { ...base, user: 'someone', n: 1, top_p: null, stream_options: null },
        // MAX_OUTPUT_TOKENS (32768) is the cap either way; 3 tokens asked either way is one request.
        { ...base, max_tokens: 32_768 },
        { ...base, max_completion_tokens: 3 },
      ]
      for (const fields of same) await expectAnswer(await gw.ask(question, fields), 'HIT')
      const reordered = await gw.app.handle(
        new Request('http://localhost/v1/chat/completions', {
          method: 'POST',
          headers: { authorization: `Bearer ${gw.user.apiKey}`, 'content-type': 'application/json' },
          body: `{"temperature": 0.5, "messages": [{"content": ${JSON.stringify(question)}, "role": "user"}], "model": "${MODEL}"}`,
        }),
      )
      await expectAnswer(reordered, 'HIT')
      const streamed = parseSse(await expectAnswer(await gw.ask(question, { ...base, stream: true }), 'HIT'))
      expect(streamed.at(-1)!.data).toBe('[DONE]')
      expect(fake.chats).toHaveLength(1 + different.length)
    })

    test('errors, cut streams and cancelled streams are not stored', async () => {
      const gw = await cached()
      const refused = prompt()
      fake.set({ chatStatus: 500 })
      const failed = await gw.ask(refused)
      expect(failed.status).toBe(502)
      fake.set({ chatStatus: undefined })
      await expectAnswer(await gw.ask(refused), 'MISS')
      await expectAnswer(await gw.ask(refused), 'HIT')

      for (const stream of [false, true]) {
        const cut = prompt()
        fake.set({ failAfter: 2, failWith: 'error' })
        const broken = await gw.ask(cut, { stream })
        const text = await broken.text()
        if (stream) expect(parseSse(text).some((event) => event.event === 'error')).toBe(true)
        else expect(broken.status).toBe(502)
        fake.set({ failAfter: undefined })
        await expectAnswer(await gw.ask(cut, { stream }), 'MISS')
        await expectAnswer(await gw.ask(cut, { stream }), 'HIT')
      }
      expect(fake.chats).toHaveLength(6)

      // A client that goes away mid-stream, over a real socket.
      const server = listen(gw.app)
      try {
        const cancelled = prompt()
        fake.set({ chunks: 50, chunkDelayMs: 20 })
        const controller = new AbortController()
        const res = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${gw.user.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: cancelled }], stream: true }),
          signal: controller.signal,
          keepalive: false,
        })
        expect(xCache(res)).toBe('MISS')
        await res.body!.getReader().read()
        controller.abort()
        await waitUntil(() => fake.aborted.length === 1)
        fake.set({ chunks: 5, chunkDelayMs: 0 })
        await expectAnswer(await gw.ask(cancelled, { stream: true }), 'MISS')
        expect(fake.chats).toHaveLength(8)
      } finally {
        server.stop()
      }
    })

    test('an answer over 1 MB is not stored', async () => {
      const gw = await cached()
      fake.set({ tokens: ['x'.repeat(1_100_000)] })
      const question = prompt()
      await expectAnswer(await gw.ask(question), 'MISS')
      await expectAnswer(await gw.ask(question), 'MISS')
      expect(fake.chats).toHaveLength(2)
    })

    test('hits are requests: the rate limit and the concurrency cap still count them', async () => {
      const limited = await cached({ RATE_LIMIT_CHAT: '2' })
      const question = prompt()
      await expectAnswer(await limited.ask(question), 'MISS')
      await expectAnswer(await limited.ask(question), 'HIT')
      const refused = await limited.ask(question)
      expect(refused.status).toBe(429)
      expect((await refused.json()).error.code).toBe('rate_limit_exceeded')

      const capped = await cached({ MAX_CONCURRENT_REQUESTS: '1' })
      const known = prompt()
      await expectAnswer(await capped.ask(known), 'MISS')
      fake.set({ stallAfter: 1 })
      const held = await capped.ask(prompt(), { stream: true })
      const reader = held.body!.getReader()
      await reader.read()
      const busy = await capped.ask(known)
      expect(busy.status).toBe(429)
      expect((await busy.json()).error.code).toBe('too_many_concurrent_requests')
      await reader.cancel()
      await waitUntil(() => fake.aborted.length === 1)
      await expectAnswer(await capped.ask(known), 'HIT')
      expect(fake.chats).toHaveLength(3)
    })

    test('a hit is logged with the tokens of the answer, cost 0 and the cached flag; the dashboard shows hit rate and cost saved', async () => {
      const gw = await cached()
      const admin = await seedUser(gw.rt, { role: 'admin' })
      const question = prompt()
      await expectAnswer(await gw.ask(question), 'MISS')
      await expectAnswer(await gw.ask(question, { stream: true }), 'HIT')
      await expectAnswer(await gw.ask(question), 'HIT')
      await settle(gw.rt)
      const [miss, ...hits] = await logRows(gw.rt, (row) => row.path === '/v1/chat/completions')
      expect(hits).toHaveLength(2)
      expect(miss).toMatchObject({ cached: false, costSaved: 0, outcome: 'ok' })
      expect(miss!.cost).toBeGreaterThan(0)
      for (const hit of hits) {
        expect(hit).toMatchObject({ cached: true, cost: 0, outcome: 'ok', upstream: null, model: MODEL })
        expect(hit).toMatchObject({ promptTokens: miss!.promptTokens, completionTokens: miss!.completionTokens, userId: gw.user.userId })
        expect(hit.costSaved).toBeCloseTo(miss!.cost, 12)
        expect(hit.completionId).not.toBe(miss!.completionId)
      }
      const listed = await (await gw.call('/api/admin/logs/?model=llama3.2&limit=1', { token: admin.accessToken })).json()
      expect(listed.items[0]).toMatchObject({ cached: true, cost: 0, costSaved: hits[1]!.costSaved })

      const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits
      const expected = { hits: 2, hitRate: round(2 / 3, 4), costSaved: round(2 * miss!.cost, 6) }
      const everyone = await (await gw.call('/api/dashboard/?range=24h', { token: admin.accessToken })).json()
      expect(everyone.summary.cache).toEqual(expected)
      expect(everyone.summary.totalCost).toBe(round(miss!.cost, 6))
      const own = await (await gw.call('/api/dashboard/?range=7d', { token: gw.user.accessToken })).json()
      expect(own.summary.cache).toEqual(expected)
      const nobody = await (await gw.call('/api/dashboard/', { token: admin.accessToken })).json()
      expect(nobody.summary.cache).toEqual(expected)
      expect(await rollupsDisagreeingWithTheLog(gw.rt)).toEqual([])
    })

    test('off (CACHE_TTL_SECONDS=0, the default): no X-Cache, every request reaches Ollama', async () => {
      const gw = await gateway({ ...store.env(), CACHE_TTL_SECONDS: '0' })
      const question = prompt()
      await expectAnswer(await gw.ask(question), null)
      await expectAnswer(await gw.ask(question), null)
      expect(fake.chats).toHaveLength(2)
    })

    test('a request the model may not take (a JSON Schema too deep) is keyed, then refused as without the cache: 400', async () => {
      const gw = await cached()
      // Within the body's 100 levels, past the 64 a schema may have.
      let deep: Record<string, unknown> = { type: 'string' }
      for (let i = 0; i < 40; i++) deep = { type: 'object', properties: { inner: deep } }
      const res = await gw.ask(prompt(), { tools: [{ type: 'function', function: { name: 'deep', parameters: deep } }] })
      expect(res.status).toBe(400)
      expect((await res.json()).error.code).toBe('invalid_value')
      expect(fake.chats).toHaveLength(0)
    })
  })

describe('configuration', () => {
  test('off by default, per user, 64 MB; a malformed value stops start-up naming it', () => {
    expect(loadConfig({}).cache).toEqual({ ttlSeconds: 0, scope: 'user', maxBytes: 64 * 1024 * 1024 })
    expect(loadConfig({ CACHE_TTL_SECONDS: '600', CACHE_SCOPE: 'GLOBAL', CACHE_MAX_MB: '2' }).cache).toEqual({
      ttlSeconds: 600,
      scope: 'global',
      maxBytes: 2 * 1024 * 1024,
    })
    for (const [name, value] of [['CACHE_TTL_SECONDS', '-1'], ['CACHE_TTL_SECONDS', '1.5'], ['CACHE_SCOPE', 'team'], ['CACHE_MAX_MB', '0']] as const)
      expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}: expected`))
  })
})

describe('the memory store', () => {
  test('is bounded by CACHE_MAX_MB: the least recently used entry goes first', async () => {
    const gw = await gateway({ CACHE_MAX_MB: '1' })
    // Answers of ~300 KB: three fit in 1 MB, a fourth does not.
    fake.set({ tokens: ['x'.repeat(300_000)] })
    const [a, b, c, d] = [prompt(), prompt(), prompt(), prompt()]
    for (const question of [a, b, c]) await expectAnswer(await gw.ask(question), 'MISS')
    await expectAnswer(await gw.ask(a), 'HIT')
    await expectAnswer(await gw.ask(d), 'MISS')
    // b was the least recently used: d took its place, and a (read since) stayed.
    for (const question of [c, a, d]) await expectAnswer(await gw.ask(question), 'HIT')
    await expectAnswer(await gw.ask(b), 'MISS')
    expect(fake.chats).toHaveLength(5)
  })
})

describe.if(redisUp)('the Redis store', () => {
  test('Redis lost mid-run: every request is answered (a miss), none stored; back, the entries are there again', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    try {
      const gw = await gateway({ REDIS_URL: proxy.url, REDIS_PREFIX: testPrefix() })
      const question = prompt()
      await expectAnswer(await gw.ask(question), 'MISS')
      await expectAnswer(await gw.ask(question), 'HIT')
      proxy.stop()
      await expectAnswer(await gw.ask(question), 'MISS')
      await expectAnswer(await gw.ask(question, { stream: true }), 'MISS')
      const meanwhile = prompt()
      await expectAnswer(await gw.ask(meanwhile), 'MISS')
      expect(fake.chats).toHaveLength(4)
      proxy.start()
      await waitUntil(() => redisOf(gw.rt)!.up)
      await expectAnswer(await gw.ask(question), 'HIT')
      await expectAnswer(await gw.ask(meanwhile), 'MISS')
      expect(fake.chats).toHaveLength(5)
    } finally {
      proxy.stop()
    }
  })

  test('two gateways sharing a Redis prefix (and a database): an answer cached through one is a hit on the other', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'studio-cache-'))
    const redis = new RedisClient(redisTestUrl)
    try {
      const prefix = testPrefix()
      const env = {
        REDIS_URL: redisTestUrl,
        REDIS_PREFIX: prefix,
        DATABASE_URL: onPostgres ? await testDatabaseUrl() : `sqlite://${join(folder, 'studio.db')}`,
      }
      const one = await gateway(env)
      const two = await testApp({ OLLAMA_BASE_URL: fake.url, CACHE_TTL_SECONDS: '60', ...env })
      opened.push(two)
      const entries = async () => ((await redis.send('SCAN', ['0', 'MATCH', `${prefix}cache:*`, 'COUNT', '1000'])) as [string, string[]])[1].length

      const question = prompt()
      await expectAnswer(await one.ask(question), 'MISS')
      await waitUntil(async () => (await entries()) === 1)
      await expectAnswer(await ask(two, one.user.apiKey, question), 'HIT')

      const streamed = prompt()
      await expectAnswer(await ask(two, one.user.accessToken, streamed, { stream: true }), 'MISS')
      await waitUntil(async () => (await entries()) === 2)
      await expectAnswer(await one.ask(streamed, { stream: true }), 'HIT')
      expect(fake.chats).toHaveLength(2)
    } finally {
      redis.close()
      rmSync(folder, { recursive: true, force: true })
    }
  })
})

/**
 * Migration 0010 on a database that logged traffic before it: the traffic rollup's new count of
 * completions (the hit rate's denominator) is filled in from the log, per user and for everyone.
 */
/** The migrations before 0010 (or through it). */
const upTo = (list: Migration[], through: boolean) => list.slice(0, list.findIndex((m) => m.name === '0010_response_cache') + (through ? 1 : 0))

describe('migration 0010', () => {
  const at = Date.parse('2025-03-02T12:34:00Z')
  const hour = at - (at % 3_600_000)
  const day = at - (at % 86_400_000)
  // Two completions of one user, one anonymous (a model named, no user), a request without a model.
  const logged = [
    ['u1', 'llama3.2'],
    ['u1', 'llama3.2'],
    [null, 'llama3.2'],
    ['u1', null],
  ] as const
  const cells = [
    [3_600_000, 'u1', hour, 3],
    [3_600_000, '', hour, 4],
    [86_400_000, 'u1', day, 3],
    [86_400_000, '', day, 4],
  ] as const
  const expected = [
    { grain: 3_600_000, user_id: '', completions: 3 },
    { grain: 3_600_000, user_id: 'u1', completions: 2 },
    { grain: 86_400_000, user_id: '', completions: 3 },
    { grain: 86_400_000, user_id: 'u1', completions: 2 },
  ]

  test('SQLite', () => {
    const db = new Database(':memory:')
    migrateSqlite(db, upTo(migrations.sqlite, false))
    for (const [user, model] of logged)
      db.query(
        `INSERT INTO request_logs (request_id, created_at, method, path, status, latency_ms, user_id, model, outcome)
         VALUES ('r', ?, 'POST', '/v1/chat/completions', 200, 1, ?, ?, 'ok')`,
      ).run(at, user, model)
    for (const [grain, user, bucket, requests] of cells)
      db.query(
        `INSERT INTO rollup_traffic (grain, user_id, bucket, requests, successes, latency_ms_sum, prompt_tokens, completion_tokens, cost)
         VALUES (?, ?, ?, ?, ?, 1, 0, 0, 0)`,
      ).run(grain, user, bucket, requests, requests)
    expect(migrateSqlite(db, upTo(migrations.sqlite, true))).toEqual(['0010_response_cache'])
    expect(db.query('SELECT grain, user_id, completions FROM rollup_traffic ORDER BY grain, user_id').all()).toEqual(expected)
    db.close()
  })

  test.if(postgresUp)('PostgreSQL', async () => {
    const schema = `${schemaPrefix}migration_0010`
    await adminSql().unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await adminSql().unsafe(`CREATE SCHEMA ${schema}`)
    const sql = new SQL({ url: postgresTestUrl, max: 1, connection: { search_path: schema } })
    try {
      await migratePostgres(sql, schema, upTo(migrations.postgres, false))
      for (const [user, model] of logged)
        await sql`INSERT INTO request_logs (request_id, created_at, method, path, status, latency_ms, user_id, model, outcome)
                  VALUES ('r', ${new Date(at)}, 'POST', '/v1/chat/completions', 200, 1, ${user}, ${model}, 'ok')`
      for (const [grain, user, bucket, requests] of cells)
        await sql`INSERT INTO rollup_traffic (grain, user_id, bucket, requests, successes, latency_ms_sum, prompt_tokens, completion_tokens, cost)
                  VALUES (${grain}, ${user}, ${new Date(bucket)}, ${requests}, ${requests}, 1, 0, 0, 0)`
      expect(await migratePostgres(sql, schema, upTo(migrations.postgres, true))).toEqual(['0010_response_cache'])
      const rows = await sql`SELECT grain, user_id, completions::int AS completions FROM rollup_traffic ORDER BY grain, user_id`
      expect([...rows]).toEqual(expected)
    } finally {
      await sql.close()
      await adminSql().unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    }
  })
})
