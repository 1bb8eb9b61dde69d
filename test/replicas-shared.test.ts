// What real replicas share through Redis, tested with real `serve` processes (./support/replicas.ts):
// each test starts a group of its own (its own PostgreSQL schema, Redis prefix and fake Ollama).
// A rate limit is exact across three replicas and refuses as one process does; a brute-force
// block made on one replica is enforced by the other, and `ai-studio unblock` lifts it on both;
// the cap on requests in progress counts the streams of every replica, a replica stopped with
// SIGTERM gives its slots back as it goes, and one killed leaves them to their lease; an answer
// cached through one replica is a hit on the other, replayed as a stream too; and Redis lost
// under chat traffic (a proxy the test stops) is never a 500: REDIS_FAILURE=local serves on each
// replica's own state and shares it again once Redis is back, REDIS_FAILURE=closed answers 503
// until then. (SIGTERM of one replica under load is in ./replicas.test.ts.)
import { describe, expect, test } from 'bun:test'
import { RedisClient } from 'bun'
import { redisTestUrl } from './support/redis'
import { tcpProxy } from './support/tcp-proxy'
import { replicasReachable, startReplicas, type CallInit, type Replica, type Replicas } from './support/replicas'
import { chunksOf, parseSse } from './support/sse'
import { seedUser } from './support/users'

const reachable = await replicasReachable('test/replicas-shared.test.ts')

/** Starting processes on a loaded 2-core machine takes seconds; none of these tests is timed. */
const TEST_MS = 120_000
/** A bound on waits for something that should happen within a second or two: failure, not speed. */
const WAIT_MS = 15_000

/** Runs `test` with a group of `count` replicas, stopped however the test ends. */
async function withReplicas(count: number, env: Record<string, string>, ollama: Parameters<typeof startReplicas>[2], test: (group: Replicas) => Promise<void>) {
  const group = await startReplicas(count, env, ollama)
  try {
    await test(group)
  } finally {
    await group.stop()
  }
}

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS) {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); await Bun.sleep(50))
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
}

type ChatOptions = CallInit & { content?: string; stream?: boolean }

const chat = (replica: Replica, token: string, { content = 'Hello', stream = false, ...init }: ChatOptions = {}) =>
  replica.call('/v1/chat/completions', { method: 'POST', token, ...init, json: { model: 'llama3.2', stream, messages: [{ role: 'user', content }] } })

const count = (answers: Response[], status: number) => answers.filter((res) => res.status === status).length

/** The text a chat answer carries, streamed or not. */
async function contentOf(res: Response) {
  if (!res.headers.get('content-type')?.startsWith('text/event-stream'))
    return ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content
  const text = await res.text()
  expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
  expect(text).not.toContain('event: error')
  return chunksOf(parseSse(text))
    .map((chunk) => chunk.choices[0]?.delta?.content ?? '')
    .join('')
}

const healthOf = async (replica: Replica) => {
  const res = await replica.call('/api/dashboard/health/')
  return { status: res.status, body: (await res.json()) as { status: string; redis?: { configured: boolean; up: boolean } } }
}

const waitForRedis = (replica: Replica, up: boolean) =>
  waitUntil(`replica ${replica.index}'s health saying redis up: ${up}`, async () => (await healthOf(replica)).body.redis?.up === up)

/** How often `line` is on the replica's stderr. */
const timesSaid = (replica: Replica, line: string) => replica.stderr().split(line).length - 1

describe.if(reachable)('a rate limit across real replicas', () => {
  test(
    'N concurrent chats spread over three replicas at a limit L: exactly L pass, and the refusals are those of one process',
    async () => {
      const L = 10
      // No cap on requests in progress: every refusal here is the rate limit's.
      const env = { RATE_LIMIT_CHAT: String(L), MAX_CONCURRENT_REQUESTS: '0' }
      // The reference: one replica on its own, counting in its memory.
      const [group, alone] = await Promise.all([startReplicas(3, env), startReplicas(1, { ...env, REDIS_URL: '' })])
      try {
        const user = await seedUser(await group.store())
        const burst = Date.now()
        const answers = await Promise.all(Array.from({ length: 3 * L }, (_, i) => chat(group.replicas[i % 3]!, i % 2 ? user.apiKey : user.accessToken)))
        expect(count(answers, 200)).toBe(L)
        expect(count(answers, 429)).toBe(2 * L)
        // Each admitted request was counted alone: remaining L-1 … 0, once each.
        const admitted = answers.filter((res) => res.status === 200)
        expect(admitted.map((res) => Number(res.headers.get('x-ratelimit-remaining'))).sort((x, y) => x - y)).toEqual(Array.from({ length: L }, (_, i) => i))
        for (const res of admitted) expect(res.headers.get('x-ratelimit-limit')).toBe(String(L))
        const refused = answers.filter((res) => res.status === 429)
        for (const res of refused) expectRetryAfter(res, burst)
        // Every replica refuses from now on, whichever credential.
        for (const replica of group.replicas) expect((await chat(replica, user.apiKey)).status).toBe(429)

        const lone = alone.replicas[0]!
        expect((await healthOf(lone)).body.redis).toBeUndefined()
        const loneUser = await seedUser(await alone.store())
        const first = Date.now()
        for (let i = 0; i < L; i++) expect((await chat(lone, loneUser.apiKey)).status).toBe(200)
        const refusedAlone = await chat(lone, loneUser.apiKey)
        expectRetryAfter(refusedAlone, first)
        expect(await refusalShape(refused[0]!)).toEqual(await refusalShape(refusedAlone))
      } finally {
        await Promise.all([group.stop(), alone.stop()])
      }
    },
    TEST_MS,
  )
})

/**
 * Retry-After and X-RateLimit-Reset of a refusal: when the oldest admitted request, made after
 * `since` (ms), leaves the minute's window. Bounded by what the test measured, not by its speed.
 */
function expectRetryAfter(res: Response, since: number) {
  const now = Date.now()
  const reset = Number(res.headers.get('x-ratelimit-reset'))
  expect(reset).toBeGreaterThanOrEqual(Math.floor(since / 1000) + 60)
  expect(reset).toBeLessThanOrEqual(Math.ceil(now / 1000) + 60)
  const retryAfter = Number(res.headers.get('retry-after'))
  expect(retryAfter).toBeGreaterThanOrEqual(Math.max(1, 60 - Math.ceil((now - since) / 1000) - 1))
  expect(retryAfter).toBeLessThanOrEqual(60)
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0')
}

/** What a refusal says, without what changes from one to the next (the seconds to wait, the request id). */
async function refusalShape(res: Response) {
  const body = (await res.json()) as { error: { message: string } }
  return {
    status: res.status,
    headers: [...res.headers.keys()].filter((name) => name !== 'date').sort(),
    limit: res.headers.get('x-ratelimit-limit'),
    remaining: res.headers.get('x-ratelimit-remaining'),
    body: { ...body, error: { ...body.error, message: body.error.message.replace(/retry in \d+ s/, 'retry in N s') } },
  }
}

describe.if(reachable)('a brute-force block across real replicas', () => {
  const ATTACKER = '203.0.113.5'
  const ELSEWHERE = '198.51.100.7'
  const password = 'correct horse battery staple'

  const login = (replica: Replica, email: string, guess: string, address: string) =>
    replica.call('/api/auth/login', { method: 'POST', json: { email, password: guess }, headers: { 'x-forwarded-for': address } })

  test(
    'failures on one replica block the address on the other; the owner signs in from elsewhere; `ai-studio unblock --address` lifts it on both',
    () =>
      // Addresses come from X-Forwarded-For; the per-minute limits are off, so that only the block answers.
      withReplicas(2, { TRUST_PROXY: '1', RATE_LIMIT_AUTH: '0', RATE_LIMIT_ANONYMOUS: '0' }, {}, async (group) => {
        const [a, b] = group.replicas as [Replica, Replica]
        const owner = `owner-${Bun.randomUUIDv7().slice(-6)}@example.com`
        const other = `other-${Bun.randomUUIDv7().slice(-6)}@example.com`
        for (const email of [owner, other])
          expect(
            (await a.call('/api/auth/register', { method: 'POST', json: { email, password }, headers: { 'x-forwarded-for': '192.0.2.200' } })).status,
          ).toBe(201)

        for (let i = 0; i < 5; i++) expect((await login(a, owner, `guess ${i}`, ATTACKER)).status).toBe(401)

        const refused = await login(b, owner, password, ATTACKER)
        expect(refused.status).toBe(429)
        expect(refused.headers.get('retry-after')).toBe('900')
        expect(((await refused.json()) as { message: string }).message).toContain('Too many failed sign-in attempts')
        // The address is blocked on every account, on both replicas.
        for (const replica of [a, b]) expect((await login(replica, other, password, ATTACKER)).status).toBe(429)
        // Never the account from everywhere: its owner still signs in from another address.
        for (const replica of [b, a]) expect((await login(replica, owner, password, ELSEWHERE)).status).toBe(200)

        const unblock = await group.command('unblock', '--address', ATTACKER)
        expect({ code: unblock.code, stderr: unblock.stderr }).toEqual({ code: 0, stderr: '' })
        expect(unblock.stdout).toContain(`address ${ATTACKER}`)
        // Each server applies it at its next poll (once a second).
        for (const replica of [b, a])
          await waitUntil(`replica ${replica.index} lifting the block`, async () => (await login(replica, owner, password, ATTACKER)).status === 200)
        for (const replica of [a, b]) expect((await login(replica, other, password, ATTACKER)).status).toBe(200)
      }),
    TEST_MS,
  )
})

type Stream = { status: number; response: Response; cancel(): void; rest(): Promise<string> }

/**
 * Asks for a stream the fake writes for an hour; once let in, open (its first chunk has arrived)
 * until `cancel()`, or until the replica ends it. The handle keeps the reader reachable: a response
 * that is garbage-collected closes its connection, which would free the slot early.
 */
async function openStream(replica: Replica, token: string): Promise<Stream> {
  const controller = new AbortController()
  // A connection of its own: a stream cancelled mid-way must not leave its socket for the next request.
  const response = await chat(replica, token, { stream: true, signal: controller.signal, keepalive: false })
  const reader = response.status === 200 ? response.body!.getReader() : undefined
  const decoder = new TextDecoder()
  let text = ''
  if (reader) text += decoder.decode((await reader.read()).value, { stream: true })
  return {
    status: response.status,
    response,
    cancel: () => controller.abort(),
    async rest() {
      for (let chunk = await reader!.read(); !chunk.done; chunk = await reader!.read()) text += decoder.decode(chunk.value, { stream: true })
      return text
    },
  }
}

describe.if(reachable)('the cap on requests in progress across real replicas', () => {
  const CAP = 3

  async function expectRefused(res: Response) {
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('1')
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({
      code: 'too_many_concurrent_requests',
      message: expect.stringContaining(`at most ${CAP}`),
    })
  }

  test(
    'streams held on one replica fill the cap on the other; one ending frees a slot there; SIGTERM frees a replica’s slots as it goes, SIGKILL leaves them to their lease',
    () =>
      withReplicas(
        2,
        // A second of draining, then the streams still going are cut (their slots given back).
        { MAX_CONCURRENT_REQUESTS: String(CAP), RATE_LIMIT_CHAT: '0', SHUTDOWN_TIMEOUT_MS: '1000' },
        { chunks: 100_000, chunkDelayMs: 50 },
        async (group) => {
          const [a, b] = group.replicas as [Replica, Replica]
          const redis = new RedisClient(redisTestUrl)
          const store = await group.store()
          const user = await seedUser(store)
          const slotsKey = `${group.redisPrefix}concurrency:user:${user.userId}`
          const slots = async () => Number(await redis.send('ZCARD', [slotsKey]))
          const open: Stream[] = []
          try {
            try {
              for (let i = 0; i < CAP; i++) open.push(await openStream(a, i % 2 ? user.apiKey : user.accessToken))
              expect(open.map((stream) => stream.status)).toEqual([200, 200, 200])
              await expectRefused(await chat(b, user.apiKey, { stream: true }))
              await expectRefused(await chat(b, user.accessToken))
              // Another user has slots of their own.
              const another = await openStream(b, (await seedUser(store)).apiKey)
              open.push(another)
              expect(another.status).toBe(200)

              // One stream on A ends (its client goes away): the slot is B's to take.
              open[0]!.cancel()
              let freed: Stream | undefined
              await waitUntil('a slot freed on A taken on B', async () => {
                const stream = await openStream(b, user.apiKey)
                if (stream.status === 200) return Boolean((freed = stream))
                await stream.response.arrayBuffer()
                return false
              })
              open.push(freed!)
              await expectRefused(await chat(a, user.apiKey, { stream: true }))
              expect(await slots()).toBe(CAP)

              // SIGTERM of A, holding two slots: its streams are cut when the drain ends, and their
              // slots are free by the time it has exited (not a lease later: 30 s, and no setting
              // shortens it for a server).
              await a.terminate()
              for (const cut of open.slice(1, CAP)) {
                const text = await cut.rest()
                expect(text).toContain('server_shutting_down')
                expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
              }
              expect(await a.exited).toBe(0)
              expect(a.stdout()).toContain('stopped cleanly')
              expect(await slots()).toBe(1)
              for (let i = 0; i < CAP - 1; i++) {
                const stream = await openStream(b, user.apiKey)
                open.push(stream)
                expect(stream.status).toBe(200)
              }
              await expectRefused(await chat(b, user.apiKey))

              // A stream ending on B frees its slot there too.
              open.at(-1)!.cancel()
              await waitUntil('the slot of a cancelled stream freed', async () => (await slots()) === CAP - 1)

              // SIGKILL of B, holding two: nothing gives them back, so they stay taken until their
              // lease runs out, at most 30 s after its last renewal on Redis's clock (waiting that
              // out would make this the slowest test of the suite; concurrency-redis.test.ts waits
              // out a short lease in one process).
              b.kill()
              await b.exited
              expect(await slots()).toBe(CAP - 1)
              const [seconds, micros] = (await redis.send('TIME', [])) as [string, string]
              const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
              // Pairs of slot id and lease end (RESP3).
              const leases = (await redis.send('ZRANGE', [slotsKey, '0', '-1', 'WITHSCORES'])) as [string, number][]
              const ends = leases.map(([, end]) => Number(end))
              expect(ends).toHaveLength(CAP - 1)
              for (const end of ends) {
                expect(end - redisNow).toBeGreaterThan(0)
                expect(end - redisNow).toBeLessThanOrEqual(30_000)
              }
              expect(Number(await redis.send('PTTL', [slotsKey]))).toBeLessThanOrEqual(30_000)
              // Meanwhile they count: A, started anew, lets in one stream of three.
              const restarted = await group.restart(0)
              const last = await openStream(restarted, user.apiKey)
              open.push(last)
              expect(last.status).toBe(200)
              await expectRefused(await chat(restarted, user.apiKey))
            } finally {
              for (const stream of open) stream.cancel()
            }
          } finally {
            redis.close()
          }
        },
      ),
    TEST_MS,
  )
})

describe.if(reachable)('the response cache across real replicas', () => {
  test(
    'an answer cached through one replica is a hit on the other, Ollama asked once; a stream is replayed as a stream there',
    () =>
      withReplicas(2, { CACHE_TTL_SECONDS: '60' }, {}, async (group) => {
        const [a, b] = group.replicas as [Replica, Replica]
        const redis = new RedisClient(redisTestUrl)
        const user = await seedUser(await group.store())
        const entries = async () => ((await redis.send('KEYS', [`${group.redisPrefix}cache:*`])) as string[]).length
        const ask = async (replica: Replica, content: string, stream: boolean, cache: 'HIT' | 'MISS') => {
          const res = await chat(replica, user.apiKey, { content, stream })
          expect({ status: res.status, cache: res.headers.get('x-cache') }).toEqual({ status: 200, cache })
          expect(res.headers.get('content-type')).toStartWith(stream ? 'text/event-stream' : 'application/json')
          return contentOf(res)
        }
        try {
          const plain = `question ${Bun.randomUUIDv7()}`
          const answer = await ask(a, plain, false, 'MISS')
          expect(answer).toContain('tok0')
          // The answer is stored once it is complete, just after it was sent.
          await waitUntil('the answer stored', async () => (await entries()) === 1)
          expect(await ask(b, plain, false, 'HIT')).toBe(answer)
          // The same answer, asked for as a stream: replayed as one.
          expect(await ask(b, plain, true, 'HIT')).toBe(answer)
          expect(group.ollama.chats).toHaveLength(1)

          const streamed = `question ${Bun.randomUUIDv7()}`
          const streamedAnswer = await ask(a, streamed, true, 'MISS')
          await waitUntil('the streamed answer stored', async () => (await entries()) === 2)
          expect(await ask(b, streamed, true, 'HIT')).toBe(streamedAnswer)
          expect(group.ollama.chats).toHaveLength(2)
        } finally {
          redis.close()
        }
      }),
    TEST_MS,
  )
})

type Answer = { status: number; code?: string; sent: string; answered: string }

/**
 * Chat traffic from `clients` clients, each sending one request after another, streamed or not,
 * to the replicas in turn; every answer is kept with the phase of the test it was sent and
 * answered in. A request that fails (no answer, a cut stream) fails the test.
 */
function chatTraffic(group: Replicas, token: string, clients = 4) {
  const answers: Answer[] = []
  let phase = 'redis up'
  let stopped = false
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let n = 0; !stopped; n++) {
      const stream = n % 2 === 0
      const sent = phase
      const res = await chat(group.replicas[(client + n) % group.replicas.length]!, token, { stream })
      const text = await res.text()
      if (res.status === 200 && stream) {
        expect(text).not.toContain('event: error')
        expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
      }
      const code = res.status === 200 ? undefined : (JSON.parse(text) as { error: { code: string } }).error.code
      answers.push({ status: res.status, code, sent, answered: phase })
    }
  })
  // A client that failed stops; `stop()` says why (awaited there, so not unhandled meanwhile).
  const ended = Promise.all(loops)
  ended.catch(() => {})
  return {
    answers,
    /** Answers sent and answered within `phase`. */
    within: (during: string) => answers.filter((answer) => answer.sent === during && answer.answered === during),
    set phase(value: string) {
      phase = value
    },
    async stop() {
      stopped = true
      await ended
    },
  }
}

describe.if(reachable)('Redis lost under chat traffic, with real replicas', () => {
  test(
    'REDIS_FAILURE=local: never a 500, every request served on each replica’s own limits, health says so; Redis back: health says so and the limit is shared again',
    async () => {
      const proxy = await tcpProxy(redisTestUrl)
      const L = 5
      try {
        // The chat limit is out of the traffic's reach (its checks still go to Redis, as do the
        // slots of the cap on requests in progress); the models limit is the one counted here.
        await withReplicas(2, { REDIS_URL: proxy.url, RATE_LIMIT_CHAT: '100000', RATE_LIMIT_MODELS: String(L) }, {}, async (group) => {
          const [a, b] = group.replicas as [Replica, Replica]
          const store = await group.store()
          const traffic = chatTraffic(group, (await seedUser(store)).apiKey)
          const models = (replica: Replica, token: string) => replica.call('/v1/models', { token }).then(async (res) => (await res.arrayBuffer(), res.status))
          try {
            await waitUntil('traffic through both replicas', () => traffic.within('redis up').length >= 20)
            for (const replica of [a, b])
              expect(await healthOf(replica)).toMatchObject({ status: 200, body: { status: 'healthy', redis: { configured: true, up: true } } })

            proxy.stop()
            traffic.phase = 'redis down'
            await waitUntil('traffic served with Redis lost', () => traffic.within('redis down').length >= 20)
            for (const replica of [a, b]) {
              await waitForRedis(replica, false)
              expect(await healthOf(replica)).toMatchObject({ status: 200, body: { status: 'healthy', redis: { configured: true, up: false } } })
            }
            // Each replica counts alone: L for one user on each.
            const local = await seedUser(store)
            for (const replica of [a, b]) {
              const statuses: number[] = []
              for (let i = 0; i < L + 2; i++) statuses.push(await models(replica, local.apiKey))
              expect(statuses).toEqual([...Array(L).fill(200), 429, 429])
            }

            proxy.start()
            traffic.phase = 'redis back'
            for (const replica of [a, b]) await waitForRedis(replica, true)
            traffic.phase = 'redis seen back'
            await waitUntil('traffic served with Redis back', () => traffic.within('redis seen back').length >= 20)
            // Shared again: 2L at once spread over both replicas let exactly L in.
            const shared = await seedUser(store)
            const statuses = await Promise.all(Array.from({ length: 2 * L }, (_, i) => models(i % 2 ? b : a, shared.apiKey)))
            expect(statuses.filter((status) => status === 200)).toHaveLength(L)
            expect(statuses.filter((status) => status === 429)).toHaveLength(L)
          } finally {
            await traffic.stop()
          }
          // Served throughout: not one refusal, let alone a 500.
          expect(traffic.answers.filter((answer) => answer.status !== 200)).toEqual([])
          // Said once each way, by each replica.
          for (const replica of [a, b]) {
            expect(timesSaid(replica, 'redis: unreachable')).toBe(1)
            expect(timesSaid(replica, 'each replica keeps its own limits until it is back (REDIS_FAILURE=local)')).toBe(1)
            expect(timesSaid(replica, 'redis: reachable again')).toBe(1)
          }
        })
      } finally {
        proxy.stop()
      }
    },
    TEST_MS,
  )

  test(
    'REDIS_FAILURE=closed: 503 shared_state_unavailable while Redis is lost (never a 500), health 503; served again once it is back',
    async () => {
      const proxy = await tcpProxy(redisTestUrl)
      try {
        await withReplicas(2, { REDIS_URL: proxy.url, REDIS_FAILURE: 'closed', RATE_LIMIT_CHAT: '100000' }, {}, async (group) => {
          const [a, b] = group.replicas as [Replica, Replica]
          const user = await seedUser(await group.store())
          const traffic = chatTraffic(group, user.apiKey)
          try {
            await waitUntil('traffic through both replicas', () => traffic.within('redis up').length >= 20)

            proxy.stop()
            traffic.phase = 'redis down'
            await waitUntil('traffic answered with Redis lost', () => traffic.within('redis down').length >= 20)
            for (const replica of [a, b]) {
              const refused = await chat(replica, user.apiKey)
              expect(refused.status).toBe(503)
              expect(refused.headers.get('retry-after')).toBe('1')
              expect(((await refused.json()) as { error: unknown }).error).toMatchObject({ code: 'shared_state_unavailable', type: 'service_unavailable' })
              expect(await healthOf(replica)).toMatchObject({ status: 503, body: { status: 'unhealthy', redis: { configured: true, up: false } } })
            }

            proxy.start()
            traffic.phase = 'redis back'
            for (const replica of [a, b]) await waitForRedis(replica, true)
            traffic.phase = 'redis seen back'
            await waitUntil('traffic served with Redis back', () => traffic.within('redis seen back').length >= 20)
            for (const replica of [a, b]) expect((await healthOf(replica)).status).toBe(200)
          } finally {
            await traffic.stop()
          }
          // Only ever served, or refused for want of Redis.
          const kinds = new Set(traffic.answers.map(({ status, code }) => `${status} ${code ?? ''}`.trim()))
          expect([...kinds].sort()).toEqual(['200', '503 shared_state_unavailable'])
          expect(traffic.within('redis down').every((answer) => answer.code === 'shared_state_unavailable')).toBe(true)
          expect(traffic.within('redis seen back').every((answer) => answer.status === 200)).toBe(true)
          for (const replica of [a, b]) expect(timesSaid(replica, 'answering 503 until it is back (REDIS_FAILURE=closed)')).toBe(1)
        })
      } finally {
        proxy.stop()
      }
    },
    TEST_MS,
  )
})
