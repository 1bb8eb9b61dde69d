// An API key's own limits (issue 18), through HTTP: requests per minute per group and tokens per
// minute, applied besides its user's limits (the stricter wins), counted per key; made with the
// key (a key minted by a key no looser than its maker) or set by admins on an existing key
// (audited); the same over the chat WebSocket; bad values a 400 naming the field. On Redis: two
// apps on one prefix share a key's counts (test/key-limits-redis.test.ts has the replicas).
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chatSockets } from '../src/chat/ws/sockets'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { run } from './support/process'
import { seedUser } from './support/users'

const fake = await startFakeOllama()
// The users' own chat limit: 5 a minute.
const { rt, app, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '5', MAX_CONCURRENT_REQUESTS: '0' })
const sockets = chatSockets(rt, (request) => app.fetch(request))
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  idleTimeout: 0,
  websocket: sockets.websocket,
  fetch: (request, server) => (sockets.wants(request) ? sockets.upgrade(request, server) : app.fetch(request)) as Response,
})
;(app as unknown as { server: typeof server }).server = server
afterAll(async () => {
  server.stop(true)
  await close()
  fake.stop()
})
// Each chat reply is worth 50 tokens: 30 of prompt and 20 of completion.
beforeEach(() => {
  fake.reset()
  fake.set({ finalOverrides: { prompt_eval_count: 30, eval_count: 20 } })
})

const admin = await seedUser(rt, { role: 'admin' })
const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] }
const chat = (token: string, body: object = hello) => call('/v1/chat/completions', { method: 'POST', token, json: body })

/** A new key of the token's user, made through the keys API; fails the test unless it is made. */
async function makeKey(token: string, json: object) {
  const res = await call('/api/keys/', { method: 'POST', token, json: { name: 'limited', ...json } })
  expect(res.status).toBe(201)
  return (await res.json()) as { id: string; key: string; rateLimits: Record<string, number> | null; tokensPerMinute: number | null }
}

const setLimits = (id: string, json: object, token = admin.accessToken) => call(`/api/admin/keys/${id}/`, { method: 'PATCH', token, json })

async function statusesOf(count: number, send: () => Promise<Response>) {
  const statuses: number[] = []
  for (let i = 0; i < count; i++) statuses.push((await send()).status)
  return statuses
}

describe('requests per minute per group', () => {
  test('a key past its own limit gets the 429 of today\'s limits, naming the key\'s limit; its user\'s other credentials go on', async () => {
    const user = await seedUser(rt)
    const key = await makeKey(user.accessToken, { rateLimits: { chat: 2 } })
    expect(key.rateLimits).toEqual({ chat: 2 })
    const first = await chat(key.key)
    expect(first.status).toBe(200)
    // The headers tell of the stricter limit: the key's 2, not the user's 5.
    expect([first.headers.get('x-ratelimit-limit'), first.headers.get('x-ratelimit-remaining')]).toEqual(['2', '1'])
    expect((await chat(key.key)).status).toBe(200)
    const refused = await chat(key.key)
    expect(refused.status).toBe(429)
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(59)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(refused.headers.get('x-ratelimit-limit')).toBe('2')
    const { error } = await refused.json()
    expect(error).toMatchObject({ code: 'rate_limit_exceeded', param: null })
    expect(error.message).toMatch(/^Rate limit of 2 requests per minute of this API key exceeded; retry in \d+ s$/)
    // Only chat is limited for this key.
    expect((await call('/v1/models', { token: key.key })).status).toBe(200)
    // The key's refusals took nothing from its user: 2 of 5 used, 3 left for the user's session.
    expect(await statusesOf(4, () => chat(user.accessToken))).toEqual([200, 200, 200, 429])
  })

  test('the user\'s limit still holds for a key whose own limit is looser', async () => {
    const user = await seedUser(rt)
    const key = await makeKey(user.accessToken, { rateLimits: { chat: 100 } })
    const answers = [] as Response[]
    for (let i = 0; i < 6; i++) answers.push(await chat(key.key))
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 429])
    expect(answers[0]!.headers.get('x-ratelimit-limit')).toBe('5')
    expect((await answers[5]!.json()).error.message).toMatch(/^Rate limit of 5 requests per minute exceeded/)
  })

  test('counted per key: two keys of one user each have their own', async () => {
    const user = await seedUser(rt)
    const [one, two] = [await makeKey(user.accessToken, { rateLimits: { chat: 1 } }), await makeKey(user.accessToken, { rateLimits: { chat: 1 } })]
    expect(await statusesOf(2, () => chat(one.key))).toEqual([200, 429])
    expect(await statusesOf(2, () => chat(two.key))).toEqual([200, 429])
  })
})

describe('tokens per minute', () => {
  test('past its tokens the key gets 429 until they leave the window; counted when each request ends, streams included', async () => {
    const user = await seedUser(rt)
    const key = await makeKey(user.accessToken, { tokensPerMinute: 100 })
    expect(key.tokensPerMinute).toBe(100)
    const first = await chat(key.key)
    expect(first.status).toBe(200)
    expect((await first.json()).usage.total_tokens).toBe(50)
    expect([first.headers.get('x-ratelimit-limit-tokens'), first.headers.get('x-ratelimit-remaining-tokens')]).toEqual(['100', '100'])
    // A stream's tokens are counted once it has ended.
    const stream = await chat(key.key, { ...hello, stream: true })
    expect(stream.status).toBe(200)
    expect(stream.headers.get('x-ratelimit-remaining-tokens')).toBe('50')
    await stream.text()
    const refused = await chat(key.key)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('x-ratelimit-remaining-tokens')).toBe('0')
    // Under 100 again once the first request's 50 leave the window, a minute after it ended.
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(58)
    expect(retryAfter).toBeLessThanOrEqual(60)
    const { error } = await refused.json()
    expect(error).toMatchObject({ code: 'rate_limit_exceeded', param: null })
    expect(error.message).toMatch(/^Token limit of 100 tokens per minute of this API key reached; retry in \d+ s$/)
    // Lists of models spend no tokens: still served. Embeddings spend them: refused too.
    expect((await call('/v1/models', { token: key.key })).status).toBe(200)
    expect((await call('/v1/embeddings', { method: 'POST', token: key.key, json: { model: 'nomic-embed-text', input: 'hi' } })).status).toBe(429)
    // Another key of the same user has its own count.
    expect((await chat(user.apiKey)).status).toBe(200)
  })

  test('a request that arrives while the key is under its limit passes, whatever it will spend', async () => {
    const user = await seedUser(rt)
    const key = await makeKey(user.accessToken, { tokensPerMinute: 60 })
    // 50 used: under 60, so the next passes (and takes the key to 100).
    expect(await statusesOf(3, () => chat(key.key))).toEqual([200, 200, 429])
  })
})

describe('over the chat WebSocket', () => {
  async function socketOf(token: string) {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/v1/chat/ws`, ['ai-studio', `bearer.${token}`])
    const messages: any[] = []
    ws.onmessage = (event) => messages.push(JSON.parse(String(event.data)))
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve()
      ws.onerror = () => reject(new Error('the socket did not open'))
    })
    /** Sends one chat and waits for its end: the `done` or `error` message. */
    const ask = async (id: number) => {
      ws.send(JSON.stringify({ type: 'chat', id, request: hello }))
      for (const deadline = Date.now() + 5_000; Date.now() < deadline; await Bun.sleep(5)) {
        const end = messages.find((m) => m.id === id && (m.type === 'done' || m.type === 'error'))
        if (end) return end
      }
      throw new Error(`no end for request ${id}`)
    }
    return { ws, ask }
  }

  test('a key\'s requests on a socket count against its limit per group and its tokens per minute, as over HTTP', async () => {
    const user = await seedUser(rt)
    const perGroup = await socketOf((await makeKey(user.accessToken, { rateLimits: { chat: 1 } })).key)
    expect((await perGroup.ask(1)).type).toBe('done')
    const refused = await perGroup.ask(2)
    expect(refused.error.code).toBe('rate_limit_exceeded')
    expect(refused.error.message).toContain('of this API key')
    perGroup.ws.close()

    const perToken = await socketOf((await makeKey(user.accessToken, { tokensPerMinute: 50 })).key)
    expect((await perToken.ask(1)).usage.total_tokens).toBe(50)
    const spent = await perToken.ask(2)
    expect(spent.error.code).toBe('rate_limit_exceeded')
    expect(spent.error.message).toContain('tokens per minute of this API key')
    perToken.ws.close()
  })
})

describe('a key minted by a key', () => {
  test('has its maker\'s limits unless it asks for stricter ones; looser ones are refused (403 naming the limit)', async () => {
    const user = await seedUser(rt)
    const maker = await makeKey(user.accessToken, { scopes: ['inference', 'read', 'manage'], rateLimits: { chat: 10 }, tokensPerMinute: 1000 })
    const inherited = await makeKey(maker.key, {})
    expect([inherited.rateLimits, inherited.tokensPerMinute]).toEqual([{ chat: 10 }, 1000])
    const stricter = await makeKey(maker.key, { rateLimits: { chat: 5, embeddings: 50 }, tokensPerMinute: 10 })
    expect([stricter.rateLimits, stricter.tokensPerMinute]).toEqual([{ chat: 5, embeddings: 50 }, 10])
    for (const [json, param] of [
      [{ rateLimits: { chat: 11 } }, 'rateLimits.chat'],
      [{ tokensPerMinute: 1001 }, 'tokensPerMinute'],
    ] as const) {
      const res = await call('/api/keys/', { method: 'POST', token: maker.key, json: { name: 'looser', ...json } })
      expect(res.status).toBe(403)
      const body = await res.json()
      expect(body.message).toContain(param)
    }
    // A user's session is bound by no key: any limits.
    expect((await makeKey(user.accessToken, { rateLimits: { chat: 1000 } })).rateLimits).toEqual({ chat: 1000 })
  })
})

describe('set by admins on an existing key', () => {
  test('applies from the next request; null clears one, those left out are kept; the key list shows them; audited with before and after', async () => {
    const user = await seedUser(rt)
    const key = await makeKey(user.accessToken, {})
    expect([key.rateLimits, key.tokensPerMinute]).toEqual([null, null])
    const res = await setLimits(key.id, { rateLimits: { chat: 1 }, tokensPerMinute: 500 })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ id: key.id, rateLimits: { chat: 1 }, tokensPerMinute: 500 })
    expect(await statusesOf(2, () => chat(key.key))).toEqual([200, 429])
    const listed = (await (await call('/api/keys/', { token: user.accessToken })).json()).data.find((k: { id: string }) => k.id === key.id)
    expect([listed.rateLimits, listed.tokensPerMinute]).toEqual([{ chat: 1 }, 500])

    // Clearing the rate limits keeps the tokens per minute; the cap on requests in progress goes along.
    const cleared = await setLimits(key.id, { rateLimits: null, maxConcurrentRequests: 2 })
    expect(await cleared.json()).toEqual({ id: key.id, maxConcurrentRequests: 2, rateLimits: null, tokensPerMinute: 500 })
    expect((await chat(key.key)).status).toBe(200)

    const audit = await (await call(`/api/admin/audit/?action=api_key.limits_set&targetType=api_key&targetId=${key.id}`, { token: admin.accessToken })).json()
    expect(audit.items.map((entry: any) => [entry.before, entry.after])).toEqual([
      [{ rateLimits: { chat: 1 }, tokensPerMinute: 500 }, { rateLimits: null, tokensPerMinute: 500, userId: user.userId }],
      [{ rateLimits: null, tokensPerMinute: null }, { rateLimits: { chat: 1 }, tokensPerMinute: 500, userId: user.userId }],
    ])
    expect(audit.items[0].actorUserId).toBe(admin.userId)
  })

  test('only admins set them; an unknown key is a 404', async () => {
    const user = await seedUser(rt)
    const key = await makeKey(user.accessToken, {})
    expect((await setLimits(key.id, { tokensPerMinute: 5 }, user.accessToken)).status).toBe(403)
    expect((await setLimits('no-such-key', { tokensPerMinute: 5 })).status).toBe(404)
  })
})

describe('bad limits', () => {
  const bad: [string, object][] = [
    ['rateLimits', { rateLimits: { chat: -1 } }],
    ['rateLimits', { rateLimits: { chat: 0 } }],
    ['rateLimits', { rateLimits: { chat: 2.5 } }],
    ['rateLimits', { rateLimits: { chat: 1e12 } }],
    ['rateLimits', { rateLimits: { chat: '20' } }],
    ['rateLimits', { rateLimits: { auth: 5 } }],
    ['rateLimits', { rateLimits: { 'no-such-group': 5 } }],
    ['rateLimits', { rateLimits: {} }],
    ['rateLimits', { rateLimits: [20] }],
    ['tokensPerMinute', { tokensPerMinute: -100 }],
    ['tokensPerMinute', { tokensPerMinute: 0 }],
    ['tokensPerMinute', { tokensPerMinute: 99.5 }],
    ['tokensPerMinute', { tokensPerMinute: 1e15 }],
    ['tokensPerMinute', { tokensPerMinute: '100' }],
  ]

  test.each(bad)('%s: %j → 400 naming the field, on creation and on an admin\'s change', async (field, json) => {
    const user = await seedUser(rt)
    const key = await makeKey(user.accessToken, {})
    for (const res of [await call('/api/keys/', { method: 'POST', token: user.accessToken, json: { name: 'bad', ...json } }), await setLimits(key.id, json)]) {
      expect(res.status).toBe(400)
      const text = await res.text()
      expect(JSON.parse(text).message).toContain(field)
      expect(text).not.toContain('1000000000000000')
      expect(text).not.toContain('no-such-group')
    }
  })
})

describe('create-api-key', () => {
  const entry = join(import.meta.dir, '..', 'src', 'index.ts')
  const dir = mkdtempSync(join(tmpdir(), 'studio-key-limits-cli-'))
  const env = { DATABASE_URL: `sqlite://${join(dir, 'studio.db')}` }
  const studio = (...args: string[]) => run([process.execPath, entry, ...args], { cwd: dir, env })

  test('--expires, --rate-limit and --tokens-per-minute make the key with them; bad ones → exit 2 naming the flag', async () => {
    const cli = await testApp(env)
    try {
      expect((await studio('create-superuser', '--email', 'cli@example.com', '--password', 'long enough')).code).toBe(0)
      const expires = new Date(Date.now() + 86_400_000).toISOString()
      const made = await studio('create-api-key', '--email', 'cli@example.com', '--scopes', 'inference,read,manage', '--expires', expires, '--rate-limit', 'chat=20, embeddings=100', '--tokens-per-minute', '5000')
      expect(made.code).toBe(0)
      const listed = (await (await cli.call('/api/keys/', { token: made.stdout.trim() })).json()).data[0]
      expect(listed).toMatchObject({ expiresAt: expires, rateLimits: { chat: 20, embeddings: 100 }, tokensPerMinute: 5000 })
      for (const [args, flag] of [
        [['--rate-limit', 'chat=0'], '--rate-limit'],
        [['--rate-limit', 'auth=5'], '--rate-limit'],
        [['--rate-limit', 'chat=5,chat=6'], '--rate-limit'],
        [['--rate-limit', 'chat'], '--rate-limit'],
        [['--tokens-per-minute', '-5'], '--tokens-per-minute'],
        [['--tokens-per-minute', '1.5'], '--tokens-per-minute'],
        [['--expires', 'tomorrow'], '--expires'],
        [['--expires', '2001-01-01T00:00:00Z'], '--expires'],
      ] as const) {
        const { code, stderr } = await studio('create-api-key', '--email', 'cli@example.com', ...args)
        expect({ args, code }).toEqual({ args, code: 2 })
        expect(stderr).toContain(flag)
      }
    } finally {
      await cli.close()
    }
  })
})
