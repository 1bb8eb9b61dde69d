// The cap on requests in progress (MAX_CONCURRENT_REQUESTS) on Redis: two replicas sharing a
// prefix hold one set of slots per user, exactly, under concurrency; the slots of a replica that
// dies free themselves after their lease while a live replica's are renewed; Redis lost mid-run
// (a proxy the test closes) leaves each replica its own cap under REDIS_FAILURE=local, or answers
// 503 under `closed`, and the shared slots are used again once Redis is back.
import { afterAll, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { RedisClient } from 'bun'
import { redisConcurrencyLimiter } from '../src/concurrency/limiter'
import { loadConfig } from '../src/config'
import { openRedis } from '../src/shared/redis'
import { startFakeOllama } from './support/fake-ollama'
import { redisReachable, redisTestUrl } from './support/redis'
import { tcpProxy } from './support/tcp-proxy'
import { twinApps, type Replica } from './support/twin-apps'
import { seedUser } from './support/users'

// Streams, leases of a second and Redis found again by its probe: seconds.
setDefaultTimeout(30_000)

const reachable = await redisReachable('test/concurrency-redis.test.ts')
const fake = await startFakeOllama()
beforeEach(() => fake.reset())
const redis = new RedisClient(redisTestUrl)
afterAll(() => {
  fake.stop()
  redis.close()
})

const CAP = 3
const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }] }

const waitUntil = async (condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); await Bun.sleep(20))
    if (Date.now() > deadline) throw new Error('condition not met in time')
}

function post(replica: Replica, token: string, body: object, signal?: AbortSignal) {
  return fetch(`${replica.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
    // A connection of its own: a stream cancelled mid-way must not leave its socket for the next request.
    keepalive: false,
  })
}

type Stream = { status: number; response: Response; reader?: ReadableStreamDefaultReader<Uint8Array>; cancel(): void }

/**
 * Asks for a stream the fake keeps writing for minutes; once let in, open until `cancel()`
 * (its first chunk has arrived). The handle keeps the reader reachable: a response that is
 * garbage-collected closes its connection, which would free the slot early (see chat-limits.test.ts).
 */
async function openStream(replica: Replica, token: string): Promise<Stream> {
  const controller = new AbortController()
  const response = await post(replica, token, { ...hello, stream: true }, controller.signal)
  const reader = response.status === 200 ? response.body!.getReader() : undefined
  await reader?.read()
  return { status: response.status, response, reader, cancel: () => controller.abort() }
}

async function expectRefused(res: Response) {
  expect(res.status).toBe(429)
  expect(res.headers.get('retry-after')).toBe('1')
  expect((await res.json()).error).toMatchObject({ code: 'too_many_concurrent_requests', type: 'rate_limit_exceeded', message: expect.stringContaining(`at most ${CAP}`) })
}

/** Cancels streams and waits until the fake saw them go (their slots are free by then). */
async function cancelAll(streams: Stream[]) {
  const open = streams.filter((stream) => stream.status === 200)
  const before = fake.aborted.length
  open.forEach((stream) => stream.cancel())
  await waitUntil(() => fake.aborted.length >= before + open.length)
}

const slotsOf = (prefix: string, userId: string) => `${prefix}concurrency:user:${userId}`

describe.if(reachable)('MAX_CONCURRENT_REQUESTS on Redis, across replicas', () => {
  test('streams held on one replica count on the other; a slot freed on one is free on the other', async () => {
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, MAX_CONCURRENT_REQUESTS: String(CAP), RATE_LIMIT_CHAT: '0' })
    try {
      const user = await seedUser(twins.a.rt)
      fake.set({ chunks: 100_000, chunkDelayMs: 50 })
      const held = [await openStream(twins.a, user.apiKey), await openStream(twins.a, user.accessToken), await openStream(twins.b, user.apiKey)]
      expect(held.map((stream) => stream.status)).toEqual([200, 200, 200])
      await expectRefused(await post(twins.b, user.apiKey, hello))
      await expectRefused(await post(twins.a, user.accessToken, { ...hello, stream: true }))
      // Another user has slots of their own.
      const other = await openStream(twins.b, (await seedUser(twins.a.rt)).apiKey)
      expect(other.status).toBe(200)

      await cancelAll([held[0]!])
      const next = await openStream(twins.b, user.apiKey)
      expect(next.status).toBe(200)
      await expectRefused(await post(twins.a, user.apiKey, hello))
      await cancelAll([...held.slice(1), next, other])
      expect(Number(await redis.send('ZCARD', [slotsOf(twins.prefix, user.userId)]))).toBe(0)
    } finally {
      await twins.close()
    }
  })

  test('N concurrent streams spread over both replicas at a cap C: exactly C get in', async () => {
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, MAX_CONCURRENT_REQUESTS: String(CAP), RATE_LIMIT_CHAT: '0' })
    try {
      const user = await seedUser(twins.a.rt)
      fake.set({ chunks: 100_000, chunkDelayMs: 50 })
      const streams = await Promise.all(Array.from({ length: 4 * CAP }, (_, i) => openStream(i % 2 ? twins.b : twins.a, user.apiKey)))
      expect(streams.filter((stream) => stream.status === 200)).toHaveLength(CAP)
      for (const refused of streams.filter((stream) => stream.status !== 200)) await expectRefused(refused.response)
      expect(Number(await redis.send('ZCARD', [slotsOf(twins.prefix, user.userId)]))).toBe(CAP)
      await cancelAll(streams)
      expect(Number(await redis.send('ZCARD', [slotsOf(twins.prefix, user.userId)]))).toBe(0)
    } finally {
      await twins.close()
    }
  })

  test('a reply’s slot is free on every replica by the time the reply arrives: one request after another, alternating, never refused', async () => {
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, MAX_CONCURRENT_REQUESTS: String(CAP), RATE_LIMIT_CHAT: '0' })
    try {
      const user = await seedUser(twins.a.rt)
      fake.set({ chunks: 100_000, chunkDelayMs: 50 })
      // All but one slot held: each request below needs the one its predecessor gave back.
      const held = [await openStream(twins.a, user.apiKey), await openStream(twins.b, user.apiKey)]
      fake.set({ chunks: 3, chunkDelayMs: 0 })
      for (let i = 0; i < 20; i++) {
        const res = await post(i % 2 ? twins.b : twins.a, user.apiKey, { ...hello, stream: i % 4 < 2 })
        expect({ i, status: res.status }).toEqual({ i, status: 200 })
        await res.text()
      }
      await cancelAll(held)
    } finally {
      await twins.close()
    }
  })

  test('a replica that dies frees its slots after their lease; a live one keeps them by renewing', async () => {
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, MAX_CONCURRENT_REQUESTS: '1', RATE_LIMIT_CHAT: '0' })
    const limiterOn = () => {
      const link = openRedis(loadConfig({ REDIS_URL: redisTestUrl, REDIS_PREFIX: twins.prefix }).redis!)
      return { link, limiter: redisConcurrencyLimiter(link, 'closed', { leaseMs: 1000 }) }
    }
    try {
      const user = await seedUser(twins.a.rt)
      const ask = () => post(twins.b, user.apiKey, hello)

      // Alive: the slot outlives several leases.
      const alive = limiterOn()
      const admission = await alive.limiter.acquire(`user:${user.userId}`, 1)
      expect(admission.allowed).toBe(true)
      await Bun.sleep(2_500)
      expect((await ask()).status).toBe(429)
      await admission.release()
      expect((await ask()).status).toBe(200)
      alive.limiter.close()
      alive.link.close()

      // Dead: acquires, then stops without giving the slot back.
      const dead = limiterOn()
      expect((await dead.limiter.acquire(`user:${user.userId}`, 1)).allowed).toBe(true)
      dead.limiter.close()
      dead.link.close()
      expect((await ask()).status).toBe(429)
      await waitUntil(async () => (await ask()).status === 200, 5_000)
    } finally {
      await twins.close()
    }
  })
})

describe.if(reachable)('MAX_CONCURRENT_REQUESTS with Redis lost mid-run', () => {
  test('REDIS_FAILURE=local: streams end normally, each replica caps alone (never a 500); with Redis back the slots are shared again', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, REDIS_URL: proxy.url, MAX_CONCURRENT_REQUESTS: '2', RATE_LIMIT_CHAT: '0' })
    try {
      const user = await seedUser(twins.a.rt)
      fake.set({ chunks: 100_000, chunkDelayMs: 50 })
      const before = await openStream(twins.a, user.apiKey)
      expect(before.status).toBe(200)

      proxy.stop()
      // Each replica now has 2 slots of its own.
      const during: Stream[] = []
      for (const replica of [twins.a, twins.b]) {
        for (let i = 0; i < 2; i++) during.push(await openStream(replica, user.apiKey))
        expect((await post(replica, user.apiKey, hello)).status).toBe(429)
      }
      expect(during.map((stream) => stream.status)).toEqual([200, 200, 200, 200])
      // The stream that took its slot on Redis ends normally and gives it back once Redis is back.
      await cancelAll([before, ...during])
      fake.set({ chunks: 3, chunkDelayMs: 0 })
      expect((await post(twins.a, user.apiKey, hello)).status).toBe(200)

      proxy.start()
      await waitUntil(async () => (await (await twins.a.call('/api/dashboard/health/')).json()).redis.up)
      await waitUntil(async () => (await (await twins.b.call('/api/dashboard/health/')).json()).redis.up)
      await waitUntil(async () => Number(await redis.send('ZCARD', [slotsOf(twins.prefix, user.userId)])) === 0)
      fake.set({ chunks: 100_000, chunkDelayMs: 50 })
      const after = [await openStream(twins.a, user.apiKey), await openStream(twins.b, user.apiKey)]
      expect(after.map((stream) => stream.status)).toEqual([200, 200])
      expect((await post(twins.b, user.apiKey, hello)).status).toBe(429)
      await cancelAll(after)
    } finally {
      await twins.close()
      proxy.stop()
    }
  })

  test('REDIS_FAILURE=closed: 503 shared_state_unavailable while Redis is lost, served again once it is back', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const twins = await twinApps({ OLLAMA_BASE_URL: fake.url, REDIS_URL: proxy.url, REDIS_FAILURE: 'closed', MAX_CONCURRENT_REQUESTS: '2', RATE_LIMIT_CHAT: '0' })
    try {
      const user = await seedUser(twins.a.rt)
      expect((await post(twins.a, user.apiKey, hello)).status).toBe(200)
      proxy.stop()
      for (const replica of [twins.a, twins.b])
        for (const stream of [false, true]) {
          const refused = await post(replica, user.apiKey, { ...hello, stream })
          expect(refused.status).toBe(503)
          expect(refused.headers.get('retry-after')).toBe('1')
          expect((await refused.json()).error).toMatchObject({ code: 'shared_state_unavailable' })
        }
      proxy.start()
      await waitUntil(async () => (await post(twins.b, user.apiKey, hello)).status === 200)
      expect((await post(twins.a, user.apiKey, hello)).status).toBe(200)
    } finally {
      await twins.close()
      proxy.stop()
    }
  })
})
