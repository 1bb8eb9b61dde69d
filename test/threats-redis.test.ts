// Brute-force blocks, threat counters and revocation with two replicas: two apps over one
// PostgreSQL schema and one Redis prefix, the way two gateways behind a proxy share them.
// Failures add up across replicas, a block holds on both and an unblock lifts it on both, a
// threat is recorded once, guesses sent to both at once are checked no more than to one;
// with Redis lost, sign-in answers from each replica's own counts (REDIS_FAILURE=local) or
// with 503 (closed), never 500. Revocation needs no Redis: every request reads the store.
import { afterAll, describe, expect, test } from 'bun:test'
import { RedisClient } from 'bun'
import { redisOf } from '../src/shared/redis'
import { liftSignInBlocks } from '../src/threats/brute-force'
import { SEVERITIES } from '../src/threats/store'
import { requestUnblock } from '../src/threats/unblocks'
import { testApp, testRuntime } from './support/app'
import { adminSql, postgresReachable, postgresTestUrl, schemaPrefix } from './support/database'
import { redisReachable, redisTestUrl, testPrefix } from './support/redis'
import { tcpProxy } from './support/tcp-proxy'
import { recordedThreats } from './support/threats'
import { seedUser } from './support/users'
import { PROPAGATION_MS, within } from './support/within'

const reachable = (await redisReachable('test/threats-redis.test.ts')) && (await postgresReachable('test/threats-redis.test.ts'))

const schemas: string[] = []
afterAll(async () => {
  for (const schema of schemas) await adminSql().unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
})

/** A PostgreSQL schema of its own, shared by the replicas of one test (dropped after the file). */
async function sharedDatabase(): Promise<string> {
  const schema = `${schemaPrefix}threats_${schemas.length + 1}`
  schemas.push(schema)
  await adminSql().unsafe(`CREATE SCHEMA ${schema}`)
  const url = new URL(postgresTestUrl)
  url.searchParams.set('schema', schema)
  return url.toString()
}

type Replica = Awaited<ReturnType<typeof testApp>>

/**
 * Two replicas over one database and one Redis prefix. Addresses come from X-Forwarded-For;
 * the per-minute limits are off, so that only the threat monitor answers.
 */
async function replicas(env: Record<string, string> = {}) {
  const database = await sharedDatabase()
  const shared = {
    DATABASE_URL: database,
    REDIS_URL: redisTestUrl,
    REDIS_PREFIX: testPrefix(),
    TRUST_PROXY: 'true',
    RATE_LIMIT_AUTH: '0',
    RATE_LIMIT_ANONYMOUS: '0',
    ...env,
  }
  const a = await testApp(shared)
  const b = await testApp(shared)
  return {
    a,
    b,
    database,
    prefix: shared.REDIS_PREFIX,
    /** Closes both (which writes every threat they raised) and reads the threats from a third runtime. */
    async threatsAfterClosing() {
      await a.close()
      await b.close()
      const reader = await testRuntime({ DATABASE_URL: database })
      try {
        return (await recordedThreats(reader)).map(({ type, severity, address, detail }) => ({ type, severity, address, detail }))
      } finally {
        await reader.close()
      }
    },
    close: async () => void (await Promise.all([a.close(), b.close()])),
  }
}

const login = (replica: Replica, email: string, password: string, address: string) =>
  replica.call('/api/auth/login/', { method: 'POST', json: { email, password }, headers: { 'x-forwarded-for': address } })

const register = async (replica: Replica, email: string, password = 'correct horse') => {
  const res = await replica.call('/api/auth/register/', { method: 'POST', json: { email, password }, headers: { 'x-forwarded-for': '192.0.2.200' } })
  expect(res.status).toBe(201)
}

/** The server polls for unblock requests once a second. */
async function eventually(attempt: () => Promise<Response>, until: (res: Response) => boolean): Promise<Response> {
  for (const deadline = Date.now() + 5000; ; await Bun.sleep(50)) {
    const res = await attempt()
    if (until(res) || Date.now() > deadline) return res
  }
}

/** Five failures on the account from the address, split between the replicas. */
async function failFiveTimes(a: Replica, b: Replica, email: string, address: string) {
  for (const [i, replica] of [a, b, a, b, a].entries()) expect((await login(replica, email, `guess ${i}`, address)).status).toBe(401)
}

describe.if(reachable)('brute-force blocks across two replicas', () => {
  test('failures split between replicas add up: the block holds on both, not for the owner elsewhere; each threat is recorded once', async () => {
    const { a, b, threatsAfterClosing } = await replicas()
    await register(a, 'owner@example.com')
    await failFiveTimes(a, b, 'owner@example.com', '203.0.113.5')
    for (const replica of [a, b]) {
      const refused = await login(replica, 'owner@example.com', 'correct horse', '203.0.113.5')
      expect(refused.status).toBe(429)
      expect(refused.headers.get('retry-after')).toBe('900')
      expect((await refused.json()).message).toContain('Too many failed sign-in attempts')
    }
    expect((await login(b, 'owner@example.com', 'correct horse', '192.0.2.50')).status).toBe(200)
    // The account's count and the address's each crossed the threshold once, on one replica or the other.
    const threats = await threatsAfterClosing()
    expect(threats).toEqual([
      { type: 'brute_force', severity: 'high', address: '203.0.113.5', detail: expect.stringContaining('owner@example.com') },
      { type: 'brute_force', severity: 'high', address: '203.0.113.5', detail: expect.stringContaining('from 203.0.113.5') },
    ])
  })

  test('guesses sent to both replicas at once: exactly as many are checked as the threshold, the rest are refused', async () => {
    const { a, b, close } = await replicas()
    await register(a, 'target@example.com')
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => login(i % 2 ? b : a, 'target@example.com', `guess ${i}`, '203.0.113.77').then((res) => res.status)),
    )
    expect(statuses.filter((status) => status === 401).length).toBe(5)
    expect(statuses.filter((status) => status === 429).length).toBe(15)
    await close()
  })

  test('an unblock request lifts the block on both replicas; another blocked account stays blocked', async () => {
    const { a, b, close } = await replicas()
    await register(a, 'locked@example.com')
    await register(a, 'still@example.com')
    await failFiveTimes(a, b, 'locked@example.com', '203.0.113.20')
    await failFiveTimes(b, a, 'still@example.com', '203.0.113.21')
    for (const replica of [a, b]) expect((await login(replica, 'locked@example.com', 'correct horse', '203.0.113.20')).status).toBe(429)
    await requestUnblock(b.rt, { email: 'locked@example.com', address: null })
    for (const replica of [a, b]) {
      const res = await eventually(
        () => login(replica, 'locked@example.com', 'correct horse', '203.0.113.20'),
        (res) => res.status !== 429,
      )
      expect(res.status).toBe(200)
      expect((await login(replica, 'still@example.com', 'correct horse', '203.0.113.21')).status).toBe(429)
    }
    await close()
  }, 15_000)

  test('a lift applied by one replica frees the other at once: the counts are shared, not copied', async () => {
    const { a, b, close } = await replicas()
    await register(a, 'office@example.com')
    await failFiveTimes(a, b, 'office@example.com', '203.0.113.9')
    expect((await login(b, 'office@example.com', 'correct horse', '203.0.113.9')).status).toBe(429)
    // No unblock request in the database: only A lifts, and B sees it on its next request.
    await liftSignInBlocks(a.rt, { email: null, address: '203.0.113.9' })
    expect((await login(b, 'office@example.com', 'correct horse', '203.0.113.9')).status).toBe(200)
    await close()
  })

  test('what was typed as an email is not in any Redis key (it may be a password), and every key expires', async () => {
    const { a, b, prefix, close } = await replicas()
    await register(a, 'named@example.com')
    await login(a, 'my-secret-passphrase', 'anything', '203.0.113.30')
    await login(b, 'named@example.com', 'wrong guess', '203.0.113.30')
    await b.call('/api/auth/me', { token: 'not.a.token', headers: { 'x-forwarded-for': '203.0.113.30' } })
    const redis = new RedisClient(redisTestUrl)
    try {
      const keys = ((await redis.send('KEYS', [`${prefix}*`])) as string[]).filter((key) => key.includes('threats:'))
      expect(keys.length).toBeGreaterThanOrEqual(5)
      for (const key of keys) {
        expect(key).not.toContain('my-secret-passphrase')
        expect(key).not.toContain('named@example.com')
        expect(Number(await redis.send('PTTL', [key]))).toBeGreaterThan(0)
      }
    } finally {
      redis.close()
      await close()
    }
  })
})

describe.if(reachable)('threats across two replicas', () => {
  test('a threat is recorded once per quiet period whichever replica sees it; a graver one is recorded again', async () => {
    const { a, b, threatsAfterClosing } = await replicas()
    const forged = (replica: Replica) => replica.call('/api/auth/me', { token: 'not.a.token', headers: { 'x-forwarded-for': '198.51.100.9' } })
    for (const replica of [a, b, a, b]) expect((await forged(replica)).status).toBe(401)
    // Sixteen more at once, half on each: the 5th and the 20th cross a threshold, whichever replica they reach.
    const statuses = await Promise.all(Array.from({ length: 16 }, (_, i) => forged(i % 2 ? a : b).then((res) => res.status)))
    expect(statuses).toEqual(Array(16).fill(401))
    const threats = await threatsAfterClosing()
    const bySeverity = threats.sort((x, y) => SEVERITIES.indexOf(x.severity) - SEVERITIES.indexOf(y.severity))
    expect(bySeverity.map(({ type, severity }) => `${type} ${severity}`)).toEqual(['invalid_token low', 'invalid_token medium', 'invalid_token high'])
    expect(bySeverity.map(({ detail }) => detail.slice(detail.lastIndexOf('(')))).toEqual(['(1 in 10 min)', '(5 in 10 min)', '(20 or more in 10 min)'])
  })
})

describe.if(reachable)('Redis lost', () => {
  test('REDIS_FAILURE=local: sign-in keeps answering from each replica’s own counts, never 500; the shared counts are back with Redis', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const { a, b, close } = await replicas({ REDIS_URL: proxy.url })
    try {
      await register(a, 'lost@example.com')
      expect((await login(b, 'lost@example.com', 'wrong guess', '203.0.113.40')).status).toBe(401)
      proxy.stop()
      for (let i = 0; i < 5; i++) expect((await login(a, 'lost@example.com', `guess ${i}`, '203.0.113.40')).status).toBe(401)
      // A counted its five; B knows none of them.
      expect((await login(a, 'lost@example.com', 'correct horse', '203.0.113.40')).status).toBe(429)
      expect((await login(b, 'lost@example.com', 'wrong again', '203.0.113.40')).status).toBe(401)
      expect((await a.call('/api/auth/me', { token: 'not.a.token' })).status).toBe(401)
      proxy.start()
      // Redis holds the one failure counted before it was lost.
      const back = await eventually(
        () => login(a, 'lost@example.com', 'correct horse', '203.0.113.40'),
        (res) => res.status !== 429,
      )
      expect(back.status).toBe(200)
      expect(redisOf(a.rt)!.up).toBe(true)
    } finally {
      proxy.stop()
      await close()
    }
  }, 15_000)

  test('an unblock applied while Redis is lost is applied again once it is back', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const { a, b, close } = await replicas({ REDIS_URL: proxy.url })
    try {
      await register(a, 'patient@example.com')
      await failFiveTimes(a, b, 'patient@example.com', '203.0.113.60')
      expect((await login(b, 'patient@example.com', 'correct horse', '203.0.113.60')).status).toBe(429)
      proxy.stop()
      await requestUnblock(a.rt, { email: 'patient@example.com', address: null })
      // Both replicas poll (once a second) and fail to reach Redis.
      await Bun.sleep(1500)
      proxy.start()
      for (const replica of [a, b]) while (!redisOf(replica.rt)!.up) await Bun.sleep(50)
      for (const replica of [a, b]) {
        const res = await eventually(
          () => login(replica, 'patient@example.com', 'correct horse', '203.0.113.60'),
          (res) => res.status !== 429,
        )
        expect(res.status).toBe(200)
      }
    } finally {
      proxy.stop()
      await close()
    }
  }, 15_000)

  test('REDIS_FAILURE=closed: sign-in answers 503 while Redis is lost; routes that only report events answer as ever', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const { a, b, close } = await replicas({ REDIS_URL: proxy.url, REDIS_FAILURE: 'closed' })
    try {
      await register(a, 'closed@example.com')
      proxy.stop()
      for (const replica of [a, b]) {
        const res = await login(replica, 'closed@example.com', 'correct horse', '203.0.113.50')
        expect(res.status).toBe(503)
        expect(res.headers.get('retry-after')).toBe('1')
        expect((await res.json()).message).toContain('Shared state (Redis) cannot be reached')
      }
      // A bad token, a malformed body and a registration consult no shared count.
      expect((await b.call('/api/auth/me', { token: 'not.a.token' })).status).toBe(401)
      const malformed = await b.call('/api/auth/login/', { method: 'POST', body: '{"email":', headers: { 'content-type': 'application/json' } })
      expect(malformed.status).toBe(400)
      await register(b, 'during@example.com')
      proxy.start()
      const back = await eventually(
        () => login(b, 'closed@example.com', 'correct horse', '203.0.113.50'),
        (res) => res.status !== 503,
      )
      expect(back.status).toBe(200)
    } finally {
      proxy.stop()
      await close()
    }
  }, 15_000)
})

describe.if(reachable)('revocation across two replicas', () => {
  // Nothing caches a principal: the guard reads the session or key and its user from the store
  // on every request (src/auth/principal.ts), so the other replica refuses on the very next one.
  test('a revoked key, an ended session, a changed role and a deactivated user are refused by the other replica within 1 s (pub/sub)', async () => {
    const { a, b, close } = await replicas()
    const admin = await seedUser(a.rt, { role: 'admin' })
    await register(a, 'member@example.com')
    const pair = (await (await login(a, 'member@example.com', 'correct horse', '192.0.2.1')).json()) as { accessToken: string; refreshToken: string }
    const minted = await a.call('/api/keys/', { method: 'POST', token: pair.accessToken, json: { name: 'ci' } })
    const key = (await minted.json()) as { id: string; key: string }
    const me = (replica: Replica, token: string) => replica.call('/api/auth/me', { token })
    // B remembers who held each token for up to a second; A's change reaches it by pub/sub.
    const answersWithin = (call: () => Promise<Response>, status: number, what: string) =>
      within(PROPAGATION_MS, performance.now(), what, async () => (await call()).status === status)
    expect((await me(b, key.key)).status).toBe(200)
    expect((await a.call(`/api/keys/${key.id}`, { method: 'DELETE', token: pair.accessToken })).status).toBe(204)
    await answersWithin(() => me(b, key.key), 401, 'a revoked key')

    const memberId = ((await (await me(a, pair.accessToken)).json()) as { id: string }).id
    const change = (body: object) => a.call(`/api/admin/users/${memberId}`, { method: 'PATCH', token: admin.accessToken, json: body })
    expect((await b.call('/api/admin/users/', { token: pair.accessToken })).status).toBe(403)
    expect((await change({ role: 'admin' })).status).toBe(200)
    await answersWithin(() => b.call('/api/admin/users/', { token: pair.accessToken }), 200, 'a promotion')
    expect((await change({ role: 'user' })).status).toBe(200)
    await answersWithin(() => b.call('/api/admin/users/', { token: pair.accessToken }), 403, 'a demotion')

    expect((await a.call('/api/auth/logout/', { method: 'POST', json: { refreshToken: pair.refreshToken } })).status).toBe(204)
    await answersWithin(() => me(b, pair.accessToken), 401, 'an ended session')

    const again = (await (await login(b, 'member@example.com', 'correct horse', '192.0.2.1')).json()) as { accessToken: string }
    expect((await me(a, again.accessToken)).status).toBe(200)
    expect((await change({ isActive: false })).status).toBe(200)
    await answersWithin(() => me(b, again.accessToken), 401, 'a deactivation')
    await close()
  })
})
