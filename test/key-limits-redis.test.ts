// An API key's own limits on Redis (REDIS_URL): two apps on one prefix count a key's requests per
// group and its tokens per minute together; the token log slides on Redis's clock and keeps its
// keys under the prefix, expiring with the window; with Redis lost, REDIS_FAILURE decides as for
// the other shared state (`local`: each replica counts alone; `closed`: 503).
import { afterAll, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { RedisClient } from 'bun'
import { loadConfig } from '../src/config'
import { redisTokenMeter } from '../src/ratelimit/tokens'
import { openRedis } from '../src/shared/redis'
import { startFakeOllama } from './support/fake-ollama'
import { redisReachable, redisTestUrl, testPrefix } from './support/redis'
import { tcpProxy } from './support/tcp-proxy'
import { twinApps, type Replica } from './support/twin-apps'
import { seedUser } from './support/users'

// Redis lost and found again takes its probe a second or two.
setDefaultTimeout(20_000)

const reachable = await redisReachable('test/key-limits-redis.test.ts')
const fake = await startFakeOllama()
const redis = new RedisClient(redisTestUrl)
afterAll(() => {
  fake.stop()
  redis.close()
})
// Each chat reply is worth 50 tokens.
beforeEach(() => fake.set({ finalOverrides: { prompt_eval_count: 30, eval_count: 20 } }))

const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }] }
const chat = (replica: Pick<Replica, 'call'>, token: string) => replica.call('/v1/chat/completions', { method: 'POST', token, json: hello })
/** Only the key's own limits count here: the users' chat limit and the cap on requests in progress are off. */
const keyOnly = { OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '0', MAX_CONCURRENT_REQUESTS: '0' }

async function makeKey(replica: Replica, json: object) {
  const user = await seedUser(replica.rt)
  const res = await replica.call('/api/keys/', { method: 'POST', token: user.accessToken, json: { name: 'limited', ...json } })
  expect(res.status).toBe(201)
  return (await res.json()) as { id: string; key: string }
}

describe.if(reachable)('a key\'s limits shared by two apps on one Redis prefix', () => {
  test('requests per group: N concurrent requests over both replicas, exactly the key\'s limit pass', async () => {
    const twins = await twinApps(keyOnly)
    try {
      const key = await makeKey(twins.a, { rateLimits: { chat: 4 } })
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(i % 2 ? twins.b : twins.a, key.key)))
      expect(answers.filter((res) => res.status === 200).length).toBe(4)
      const refused = answers.filter((res) => res.status === 429)
      expect(refused.length).toBe(8)
      for (const res of refused) expect((await res.json()).error.message).toContain('of this API key')
      expect(await redis.send('ZCARD', [`${twins.prefix}ratelimit:chat|key:${key.id}`])).toBe(4)
    } finally {
      await twins.close()
    }
  })

  test('tokens per minute: what one replica counted, the other refuses on; the log lives under the prefix and expires with the window', async () => {
    const twins = await twinApps(keyOnly)
    try {
      const key = await makeKey(twins.a, { tokensPerMinute: 100 })
      expect((await chat(twins.a, key.key)).status).toBe(200)
      const second = await chat(twins.b, key.key)
      expect(second.status).toBe(200)
      expect(second.headers.get('x-ratelimit-remaining-tokens')).toBe('50')
      for (const replica of [twins.a, twins.b]) {
        const refused = await chat(replica, key.key)
        expect(refused.status).toBe(429)
        expect((await refused.json()).error.code).toBe('rate_limit_exceeded')
        const retryAfter = Number(refused.headers.get('retry-after'))
        expect(retryAfter).toBeGreaterThanOrEqual(58)
        expect(retryAfter).toBeLessThanOrEqual(60)
      }
      const [log, used] = [`${twins.prefix}tokens:{key:${key.id}}:log`, `${twins.prefix}tokens:{key:${key.id}}:used`]
      expect(await redis.send('ZCARD', [log])).toBe(2)
      expect(await redis.send('GET', [used])).toBe('100')
      for (const name of [log, used]) {
        const ttl = Number(await redis.send('PTTL', [name]))
        expect(ttl).toBeGreaterThan(50_000)
        expect(ttl).toBeLessThanOrEqual(60_000)
      }
    } finally {
      await twins.close()
    }
  })

  test('the token log slides on Redis\'s clock: tokens leave the window in the order they came, and the key is under its limit again', async () => {
    const link = openRedis(loadConfig({ REDIS_URL: redisTestUrl, REDIS_PREFIX: testPrefix() }).redis!)
    const meter = redisTokenMeter(link, 'closed')
    try {
      expect(await meter.check('k', 50, 400)).toMatchObject({ allowed: true, used: 0 })
      await meter.record('k', 30, 400)
      await Bun.sleep(100)
      await meter.record('k', 30, 400)
      const refused = await meter.check('k', 50, 400)
      expect(refused).toMatchObject({ allowed: false, limit: 50, used: 60 })
      // Under 50 once the first 30 leave: about 300 ms from now, not 400.
      expect(refused.resetAt - Date.now()).toBeGreaterThan(200)
      expect(refused.resetAt - Date.now()).toBeLessThanOrEqual(310)
      await Bun.sleep(refused.resetAt - Date.now() + 30)
      expect(await meter.check('k', 50, 400)).toMatchObject({ allowed: true, used: 30 })
      await Bun.sleep(150)
      expect(await meter.check('k', 50, 400)).toMatchObject({ allowed: true, used: 0 })
      expect(await link.send('EXISTS', [link.key('tokens:{k}:used')])).toBe(0)
    } finally {
      meter.close()
      link.close()
    }
  })
})

describe.if(reachable)('a key\'s tokens per minute with Redis lost mid-run', () => {
  test('REDIS_FAILURE=local: each replica counts the key\'s tokens alone, never a 500', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const twins = await twinApps({ ...keyOnly, REDIS_URL: proxy.url })
    try {
      const key = await makeKey(twins.a, { tokensPerMinute: 100 })
      // Each replica connected to Redis (the key's 100 tokens all used there), then Redis lost.
      for (const replica of [twins.a, twins.b]) expect((await chat(replica, key.key)).status).toBe(200)
      proxy.stop()
      // Each replica counts from nothing, alone.
      for (const replica of [twins.a, twins.b]) {
        const answers = [await chat(replica, key.key), await chat(replica, key.key), await chat(replica, key.key)]
        expect(answers.map((res) => res.status)).toEqual([200, 200, 429])
      }
    } finally {
      await twins.close()
      proxy.stop()
    }
  })

  test('REDIS_FAILURE=closed: the key\'s requests get 503 shared_state_unavailable until Redis is back', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const twins = await twinApps({ ...keyOnly, REDIS_URL: proxy.url, REDIS_FAILURE: 'closed' })
    try {
      const key = await makeKey(twins.a, { tokensPerMinute: 1000 })
      const user = await seedUser(twins.a.rt)
      expect((await chat(twins.b, key.key)).status).toBe(200)
      proxy.stop()
      const refused = await chat(twins.b, key.key)
      expect(refused.status).toBe(503)
      expect((await refused.json()).error.code).toBe('shared_state_unavailable')
      // A key without limits of its own needs no Redis here (the users' chat limit is off).
      expect((await chat(twins.b, user.apiKey)).status).toBe(200)
      proxy.start()
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await Bun.sleep(50)) if ((await chat(twins.b, key.key)).status === 200) return
      throw new Error('the key was never served again')
    } finally {
      await twins.close()
      proxy.stop()
    }
  })
})
