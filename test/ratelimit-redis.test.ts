// Rate limits on Redis (REDIS_URL): two replicas sharing a prefix count together, exactly, for
// every limited group, with the headers and bodies of the in-memory limiter; Redis lost mid-run
// (a proxy the test closes) leaves each replica its own limits under REDIS_FAILURE=local, or
// answers 503 under `closed`, and the shared counts are used again once Redis is back.
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { RedisClient } from 'bun'
import { loadConfig } from '../src/config'
import { redisLimiter } from '../src/ratelimit/limiter'
import { openRedis } from '../src/shared/redis'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { redisReachable, redisTestUrl, testPrefix } from './support/redis'
import { tcpProxy } from './support/tcp-proxy'
import { twinApps, type Replica } from './support/twin-apps'
import { seedUser } from './support/users'

// Redis lost and found again takes its probe a second or two.
setDefaultTimeout(20_000)

const reachable = await redisReachable('test/ratelimit-redis.test.ts')
const fake = await startFakeOllama()
const redis = new RedisClient(redisTestUrl)
afterAll(() => {
  fake.stop()
  redis.close()
})

const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }] }
const chat = (replica: Pick<Replica, 'call'>, token: string) => replica.call('/v1/chat/completions', { method: 'POST', token, json: hello })
const statuses = (answers: Response[]) => answers.map((res) => res.status)
const count = (answers: Response[], status: number) => answers.filter((res) => res.status === status).length

/** What a refusal says, without what changes from one to the next (the seconds to wait, the request id). */
async function refusalShape(res: Response) {
  const body = await res.json()
  return {
    status: res.status,
    headers: [...res.headers.keys()].filter((name) => name !== 'date').sort(),
    limit: res.headers.get('x-ratelimit-limit'),
    remaining: res.headers.get('x-ratelimit-remaining'),
    body: { ...body, error: { ...body.error, message: body.error.message.replace(/retry in \d+ s/, 'retry in N s') } },
  }
}

async function waitForHealth(replica: Replica, up: boolean) {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await Bun.sleep(50)) {
    const body = await (await replica.call('/api/dashboard/health/')).json()
    if (body.redis?.up === up) return
  }
  throw new Error(`health never said redis up: ${up}`)
}

describe.if(reachable)('rate limits on Redis, across replicas', () => {
  test('N concurrent chat requests spread over two replicas at a limit L: exactly L pass, each its own count', async () => {
    const L = 10
    // No cap on requests in progress: every refusal here is the rate limit's.
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: String(L), MAX_CONCURRENT_REQUESTS: '0' })
    try {
      const user = await seedUser(twins.a.rt)
      const answers = await Promise.all(Array.from({ length: 3 * L }, (_, i) => chat(i % 2 ? twins.b : twins.a, i % 3 ? user.apiKey : user.accessToken)))
      expect(count(answers, 200)).toBe(L)
      expect(count(answers, 429)).toBe(2 * L)
      for (const res of answers.filter((res) => res.status === 429)) expect((await res.json()).error.code).toBe('rate_limit_exceeded')
      // Each admitted request was counted alone: remaining L-1 … 0, once each.
      const remaining = answers.filter((res) => res.status === 200).map((res) => Number(res.headers.get('x-ratelimit-remaining')))
      expect(remaining.sort((x, y) => x - y)).toEqual(Array.from({ length: L }, (_, i) => i))
      // Both replicas refuse from now on, whichever token.
      for (const replica of [twins.a, twins.b]) expect((await chat(replica, user.apiKey)).status).toBe(429)
      // Another user has a budget of their own.
      expect((await chat(twins.b, (await seedUser(twins.a.rt)).apiKey)).status).toBe(200)
    } finally {
      await twins.close()
    }
  })

  test('a refusal on Redis looks like one in memory: status, headers, Retry-After, body', async () => {
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '2' })
    const alone = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '2' })
    try {
      const shared = await seedUser(twins.a.rt)
      const local = await seedUser(alone.rt)
      for (const res of [await chat(twins.a, shared.apiKey), await chat(twins.b, shared.apiKey), await chat(alone, local.apiKey), await chat(alone, local.apiKey)])
        expect(res.status).toBe(200)
      const [onRedis, inMemory] = [await chat(twins.a, shared.apiKey), await chat(alone, local.apiKey)]
      expect(onRedis.status).toBe(429)
      for (const res of [onRedis, inMemory]) {
        const retryAfter = Number(res.headers.get('retry-after'))
        expect(retryAfter).toBeGreaterThanOrEqual(59)
        expect(retryAfter).toBeLessThanOrEqual(60)
        const reset = Number(res.headers.get('x-ratelimit-reset'))
        expect(reset).toBeGreaterThan(Date.now() / 1000 + 58)
        expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60)
      }
      expect(await refusalShape(onRedis)).toEqual(await refusalShape(inMemory))
    } finally {
      await twins.close()
      await alone.close()
    }
  })

  test('every group counts across replicas: models, dashboard, sign-in (by address), anonymous (by address)', async () => {
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_MODELS: '2', RATE_LIMIT_DASHBOARD: '2', RATE_LIMIT_AUTH: '2', RATE_LIMIT_ANONYMOUS: '0' })
    const anonymous = await twinApps({ RATE_LIMIT_ANONYMOUS: '2' })
    try {
      const user = await seedUser(twins.a.rt)
      const [a, b] = [twins.a, twins.b]
      const login = (replica: Replica) =>
        fetch(`${replica.url}/api/auth/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password: 'not-the-password' }) })
      const nowhere = (replica: Replica) => fetch(`${replica.url}/api/nothing-here/`)
      const groups: [string, (replica: Replica) => Promise<Response>][] = [
        ['models', (replica) => replica.call('/v1/models', { token: user.apiKey })],
        ['dashboard', (replica) => replica.call('/api/dashboard/', { token: user.accessToken })],
        ['auth', login],
        ['anonymous', nowhere],
      ]
      for (const [group, send] of groups) {
        const [first, second, third, fourth] = group === 'anonymous' ? [anonymous.a, anonymous.b, anonymous.a, anonymous.b] : [a, b, a, b]
        const answers = [await send(first), await send(second), await send(third), await send(fourth)]
        expect({ group, statuses: statuses(answers).map((s) => s === 429) }).toEqual({ group, statuses: [false, false, true, true] })
        expect(answers[3]!.headers.get('x-ratelimit-limit')).toBe('2')
      }
    } finally {
      await twins.close()
      await anonymous.close()
    }
  })

  test('keys live under the prefix and expire with the window', async () => {
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_MODELS: '5' })
    try {
      const user = await seedUser(twins.a.rt)
      for (const replica of [twins.a, twins.b]) expect((await replica.call('/v1/models', { token: user.apiKey })).status).toBe(200)
      const keys = (await redis.send('KEYS', [`${twins.prefix}ratelimit:*`])) as string[]
      expect(keys).toEqual([`${twins.prefix}ratelimit:models|user:${user.userId}`])
      const ttl = Number(await redis.send('PTTL', [keys[0]!]))
      expect(ttl).toBeGreaterThan(50_000)
      expect(ttl).toBeLessThanOrEqual(60_000)
      expect(Number(await redis.send('ZCARD', [keys[0]!]))).toBe(2)
    } finally {
      await twins.close()
    }
  })

  test('the window slides on Redis’s clock: a request leaves it when its time is up', async () => {
    const link = openRedis(loadConfig({ REDIS_URL: redisTestUrl, REDIS_PREFIX: testPrefix() }).redis!)
    const limiter = redisLimiter(link, 'closed')
    try {
      const first = await limiter.hit('k', 2, 400)
      expect(first).toMatchObject({ allowed: true, limit: 2, remaining: 1 })
      expect(first.resetAt - Date.now()).toBeGreaterThan(0)
      expect(first.resetAt - Date.now()).toBeLessThanOrEqual(400)
      expect(await limiter.hit('k', 2, 400)).toMatchObject({ allowed: true, remaining: 0 })
      const refused = await limiter.hit('k', 2, 400)
      expect(refused).toMatchObject({ allowed: false, remaining: 0 })
      // Refusals are not counted: once the first two leave the window, two more get in.
      await Bun.sleep(Math.max(0, refused.resetAt - Date.now()) + 50)
      expect(await limiter.hit('k', 2, 400)).toMatchObject({ allowed: true, remaining: 1 })
      expect(await limiter.hit('k', 2, 400)).toMatchObject({ allowed: true, remaining: 0 })
      expect((await limiter.hit('k', 2, 400)).allowed).toBe(false)
    } finally {
      limiter.close()
      link.close()
    }
  })
})

describe.if(reachable)('rate limits with Redis lost mid-run', () => {
  test('REDIS_FAILURE=local: each replica counts alone (never a 500), health says Redis is down, and the shared counts are back with Redis', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, REDIS_URL: proxy.url, RATE_LIMIT_CHAT: '3' })
    try {
      const user = await seedUser(twins.a.rt)
      expect((await chat(twins.a, user.apiKey)).status).toBe(200)
      const healthy = await (await twins.a.call('/api/dashboard/health/')).json()
      expect(healthy).toMatchObject({ status: 'healthy', redis: { configured: true, up: true } })

      proxy.stop()
      // Each replica now has 3 of its own.
      for (const replica of [twins.a, twins.b]) {
        const answers = await Promise.all(Array.from({ length: 5 }, () => chat(replica, user.apiKey)))
        expect(statuses(answers).sort()).toEqual([200, 200, 200, 429, 429])
      }
      for (const replica of [twins.a, twins.b]) {
        const health = await replica.call('/api/dashboard/health/')
        expect(health.status).toBe(200)
        expect(await health.json()).toMatchObject({ status: 'healthy', database: { connected: true }, redis: { configured: true, up: false } })
      }

      proxy.start()
      await waitForHealth(twins.a, true)
      await waitForHealth(twins.b, true)
      // Redis still holds the request made before it was lost: 2 left, for both replicas together.
      const answers = [await chat(twins.b, user.apiKey), await chat(twins.a, user.apiKey), await chat(twins.b, user.apiKey), await chat(twins.a, user.apiKey)]
      expect(statuses(answers)).toEqual([200, 200, 429, 429])
      expect(answers[1]!.headers.get('x-ratelimit-remaining')).toBe('0')
    } finally {
      await twins.close()
      proxy.stop()
    }
  })

  test('REDIS_FAILURE=closed: limited requests get 503 shared_state_unavailable, health is 503 unhealthy; served again once Redis is back', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, REDIS_URL: proxy.url, REDIS_FAILURE: 'closed', RATE_LIMIT_CHAT: '5', RATE_LIMIT_ANONYMOUS: '5' })
    try {
      const user = await seedUser(twins.a.rt)
      expect((await chat(twins.a, user.apiKey)).status).toBe(200)

      proxy.stop()
      for (const replica of [twins.a, twins.b]) {
        const refused = await chat(replica, user.apiKey)
        expect(refused.status).toBe(503)
        expect(refused.headers.get('retry-after')).toBe('1')
        expect((await refused.json()).error).toMatchObject({ code: 'shared_state_unavailable', type: 'service_unavailable' })
        // Anonymous requests are counted too; a health check is still answered, and says why.
        const anonymous = await fetch(`${replica.url}/api/nothing-here/`)
        expect(anonymous.status).toBe(503)
        expect((await anonymous.json()).message).toContain('Redis')
        const health = await fetch(`${replica.url}/api/dashboard/health/`)
        expect(health.status).toBe(503)
        expect(await health.json()).toMatchObject({ status: 'unhealthy', database: { connected: true }, redis: { configured: true, up: false } })
      }

      proxy.start()
      await waitForHealth(twins.a, true)
      await waitForHealth(twins.b, true)
      const health = await fetch(`${twins.b.url}/api/dashboard/health/`)
      expect(health.status).toBe(200)
      // The count Redis kept (1) goes on.
      const back = await chat(twins.b, user.apiKey)
      expect(back.status).toBe(200)
      expect(back.headers.get('x-ratelimit-remaining')).toBe('3')
    } finally {
      await twins.close()
      proxy.stop()
    }
  })
})
