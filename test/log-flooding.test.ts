// Anonymous traffic cannot grow the request log without bound: requests no one signed in for are
// limited per address (RATE_LIMIT_ANONYMOUS), past the limit only the rollups count them, paths
// are kept as route patterns or cut short, and LOG_RETENTION_DAYS prunes old raw rows while
// every dashboard total stays exact.
import { afterAll, describe, expect, test } from 'bun:test'
import { DAY, floorTo, HOUR } from '../src/http/dates'
import { pruneBatch } from '../src/telemetry/retention'
import { testApp } from './support/app'
import { insertRequestLog, logRows, settle } from './support/log'
import { recordedThreats } from './support/threats'
import { seedUser } from './support/users'

const { rt, call, close } = await testApp({ TRUST_PROXY: 'true', RATE_LIMIT_ANONYMOUS: '5', LOG_FLUSH_MS: '60000' })
afterAll(close)

const from = (address: string) => ({ 'x-forwarded-for': address })
/** Everyone's requests in the hourly rollup, since ever. */
const hourlyRequests = async () => (await rt.store.dashboard.logCounts(0)).recent
/** The last day's hourly rollup of everyone's requests. */
const lastDay = () => ({ scope: '', from: floorTo(Date.now(), HOUR) - DAY, to: floorTo(Date.now(), HOUR) + HOUR, step: HOUR })

describe('RATE_LIMIT_ANONYMOUS', () => {
  test('anonymous requests past the limit get 429; only the rollups count the refused ones', async () => {
    await settle(rt)
    const rowsBefore = (await logRows(rt)).length
    const countedBefore = await hourlyRequests()
    const long = `/api/${'a'.repeat(1500)}`
    const statuses: number[] = []
    for (let i = 0; i < 50; i++) statuses.push((await call(long, { headers: from('198.51.100.7') })).status)
    expect(statuses.filter((s) => s === 404)).toHaveLength(5)
    expect(statuses.filter((s) => s === 429)).toHaveLength(45)
    await settle(rt)
    expect((await logRows(rt)).length - rowsBefore).toBe(5)
    expect((await hourlyRequests()) - countedBefore).toBe(50)
    const errors = await rt.store.dashboard.topValues('errors', lastDay(), 100)
    expect(errors).toEqual(expect.arrayContaining([{ value: '429', requests: 45 }]))
  })

  test('the 429 carries Retry-After and the rate-limit headers; another address has its own budget', async () => {
    for (let i = 0; i < 5; i++) await call('/v1/models', { headers: from('198.51.100.8') })
    const refused = await call('/v1/models', { headers: from('198.51.100.8') })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(refused.headers.get('x-ratelimit-limit')).toBe('5')
    expect((await call('/v1/models', { headers: from('198.51.100.9') })).status).toBe(401)
  })

  test('past the limit, sign-in and health checks are still served (a page elsewhere cannot lock an address out), without raw rows', async () => {
    const address = from('198.51.100.14')
    // What any web page can make a browser send: form posts the API refuses with 415.
    for (let i = 0; i < 10; i++)
      expect((await call('/api/auth/login/', { method: 'POST', headers: { ...address, 'content-type': 'text/plain' }, body: 'x' })).status).toBe(415)
    await settle(rt)
    const rowsBefore = (await logRows(rt)).length
    for (const path of ['/api/auth/health/', '/api/dashboard/health/', '/v1/health']) expect((await call(path, { headers: address })).status).not.toBe(429)
    const login = await call('/api/auth/login/', { method: 'POST', headers: address, json: { email: 'nobody@x.test', password: 'whatever it is' } })
    expect(login.status).toBe(401)
    await settle(rt)
    expect((await logRows(rt)).length).toBe(rowsBefore)
  })

  test('signed-in users are not anonymous: their requests do not count', async () => {
    const user = await seedUser(rt)
    for (let i = 0; i < 10; i++)
      expect((await call('/api/auth/me/', { token: user.apiKey, headers: from('198.51.100.10') })).status).toBe(200)
    expect((await call('/api/auth/health/', { headers: from('198.51.100.10') })).status).toBe(200)
  })

  test('bad credentials do not dodge the limit: past it, their rows go to the rollups only', async () => {
    await settle(rt)
    const rowsBefore = (await logRows(rt)).length
    for (let i = 0; i < 20; i++)
      expect((await call('/api/no-such-route', { token: `garbage-${i}`, headers: from('198.51.100.11') })).status).toBe(404)
    for (let i = 0; i < 20; i++)
      expect((await call('/api/auth/me/', { token: `forged.token.${i}`, headers: from('198.51.100.11') })).status).toBe(401)
    await settle(rt)
    expect((await logRows(rt)).length - rowsBefore).toBe(5)
  })

  test('bodies refused before sign-in is checked count as anonymous too', async () => {
    const user = await seedUser(rt)
    await settle(rt)
    const rowsBefore = (await logRows(rt)).length
    for (let i = 0; i < 20; i++) {
      const res = await call('/api/feedback/', {
        method: 'POST',
        token: user.apiKey,
        headers: { ...from('198.51.100.12'), 'content-type': 'application/json' },
        body: '['.repeat(200),
      })
      expect(res.status).toBe(400)
    }
    await settle(rt)
    expect((await logRows(rt)).length - rowsBefore).toBe(5)
  })

  test('a forwarded address that is not one is neither believed nor stored', async () => {
    const junk = 'x'.repeat(12_000)
    await call('/api/auth/health/', { headers: { 'x-forwarded-for': junk, 'user-agent': 'junk-forwarder' } })
    await settle(rt)
    expect((await logRows(rt, (row) => row.userAgent === 'junk-forwarder')).at(-1)).toMatchObject({ ip: null })
  })

  test('what was typed as an email is not kept in a threat unless it is one (it may be a password)', async () => {
    for (let i = 0; i < 5; i++)
      await call('/api/auth/login/', { method: 'POST', headers: from('198.51.100.15'), json: { email: 'MySecretPassw0rd!', password: 'whatever it is' } })
    await settle(rt)
    const details = (await recordedThreats(rt, { type: 'brute_force' })).map(({ detail }) => detail)
    expect(details.length).toBeGreaterThan(0)
    expect(JSON.stringify(details).toLowerCase()).not.toContain('mysecretpassw0rd')
  })

  test('0 turns the limit off', async () => {
    const open = await testApp({ TRUST_PROXY: 'true', RATE_LIMIT_ANONYMOUS: '0' })
    try {
      for (let i = 0; i < 30; i++) expect((await open.call('/api/auth/health/', { headers: from('198.51.100.13') })).status).toBe(200)
    } finally {
      await open.close()
    }
  })
})

describe('LOG_RETENTION_DAYS', () => {
  test('old raw rows are pruned in batches; the dashboard shows the same figures before and after', async () => {
    const kept = await testApp({ LOG_FLUSH_MS: '60000', RATE_LIMIT_ANONYMOUS: '0' })
    try {
      const admin = await seedUser(kept.rt, { role: 'admin' })
      // 25 requests ten days old, five of now.
      for (let i = 0; i < 25; i++) await insertRequestLog(kept.rt, { createdAt: Date.now() - 10 * DAY - i * HOUR })
      for (let i = 0; i < 5; i++) await kept.call('/api/auth/health/')
      await settle(kept.rt)
      const everything = { scope: '', from: 0, to: floorTo(Date.now(), HOUR) + HOUR, step: HOUR }
      const rollups = () => kept.rt.store.dashboard.trafficSeries(everything)
      const dashboard = async () => (await (await kept.call('/api/dashboard/?range=3m', { token: admin.accessToken })).json()).summary
      const before = await dashboard()
      await settle(kept.rt)
      const cells = await rollups()
      const total = (await logRows(kept.rt)).length
      expect(await pruneBatch(kept.rt, Date.now() - 86_400_000)).toBe(total - 6)
      expect(await logRows(kept.rt)).toHaveLength(6)
      expect(await pruneBatch(kept.rt, Date.now() - 86_400_000)).toBe(0)
      expect(await rollups()).toEqual(cells)
      // The same totals: the 30 requests (25 old, 5 recent), plus the dashboard request that read them.
      const after = await dashboard()
      expect(before.totalRequests).toBe(30)
      expect(after).toMatchObject({ totalRequests: 31, successfulRequests: 31 })
    } finally {
      await kept.close()
    }
  })

  test('the server prunes in the background when the setting is on', async () => {
    const pruned = await testApp({ LOG_RETENTION_DAYS: '1', RATE_LIMIT_ANONYMOUS: '0' })
    try {
      for (let i = 0; i < 3; i++) await insertRequestLog(pruned.rt, { createdAt: Date.now() - 2 * DAY })
      // The first round runs a second after start-up.
      for (const deadline = Date.now() + 5000; (await logRows(pruned.rt)).length > 0 && Date.now() < deadline; ) await Bun.sleep(100)
      expect(await logRows(pruned.rt)).toHaveLength(0)
    } finally {
      await pruned.close()
    }
  })

  test('a setting that is not a whole number of days stops start-up naming it', async () => {
    await expect(testApp({ LOG_RETENTION_DAYS: 'a week' })).rejects.toThrow('LOG_RETENTION_DAYS')
  })
})
