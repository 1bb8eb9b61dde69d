// Another process (a backup, the CLI, a second server) holding SQLite's write lock must not
// freeze the server: health and reads keep answering, the event loop keeps turning, log rows
// and bookkeeping wait and are written afterwards, and a write a request needs answers 503
// with Retry-After (a sign-in within a second), never 500.
import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { startRuntime } from '../src/runtime'
import { TEST_SECRET, testApp } from './support/app'
import { withFakeChat } from './support/fake-chat'
import { browserSignIn, startFakeIdp } from './support/fake-idp'
import { logRows, settle } from './support/log'
import { recordedThreats } from './support/threats'
import { seedUser } from './support/users'
import { holdWriteLock, type WriteLock } from './support/write-lock'

const dir = mkdtempSync(join(tmpdir(), 'studio-lock-'))
const databasePath = join(dir, 'studio.db')
const idp = await startFakeIdp()
// Log batches are due every 20 ms, so the writer meets the lock many times in each test; the
// health checks below are many anonymous requests, which are not what this file limits.
const { rt, app, call, close } = await testApp({
  DATABASE_URL: `sqlite://${databasePath}`,
  LOG_FLUSH_MS: '20',
  RATE_LIMIT_ANONYMOUS: '0',
  OIDC_ISSUER: idp.url,
  OIDC_CLIENT_ID: idp.clientId,
  OIDC_CLIENT_SECRET: idp.clientSecret,
})
withFakeChat(app, rt)
afterAll(async () => {
  await close()
  idp.close()
  rmSync(dir, { recursive: true, force: true })
})

const admin = await seedUser(rt, { role: 'admin' })
const user = await seedUser(rt)
const password = 'correct horse battery'
const registered = await call('/api/auth/register/', { method: 'POST', json: { email: 'writer@example.com', password } })
const { refreshToken } = (await registered.json()) as { refreshToken: string }
const completionId = ((await (await call('/v1/test/completions', { method: 'POST', token: user.accessToken, json: { model: 'm', promptTokens: 1, completionTokens: 1 } })).json()) as { id: string }).id
await settle(rt)

/** Far more than the few milliseconds allowed, far less than the old 5 s busy wait: no flakes on a busy machine. */
const STALL_MS = 400

let lock: WriteLock | undefined
const locked = async () => (lock = await holdWriteLock(databasePath))
const release = async () => {
  await lock?.release()
  lock = undefined
}

/** Times one request. */
async function timed(path: string, init: Parameters<typeof call>[1] = {}) {
  const started = performance.now()
  const res = await call(path, init)
  return { res, ms: performance.now() - started }
}

/** The longest pause between ticks of a 10 ms interval while `work` runs: how long the event loop was blocked. */
async function longestStall(work: () => Promise<void>): Promise<number> {
  let last = performance.now()
  let longest = 0
  const ticker = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
  }, 10)
  try {
    await work()
  } finally {
    clearInterval(ticker)
  }
  return Math.max(longest, performance.now() - last)
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) return false
    await Bun.sleep(25)
  }
  return true
}

const expectBusy = async (res: Response) => {
  expect(res.status).toBe(503)
  expect(res.headers.get('retry-after')).toBe('1')
  expect(((await res.json()) as { message: string }).message).toMatch(/database is busy/i)
}

describe('while another process holds the write lock', () => {
  afterEach(release)

  test('health answers, the event loop keeps turning, and every request logged meanwhile is written afterwards', async () => {
    await locked()
    const requestIds: string[] = []
    const latencies: number[] = []
    const stall = await longestStall(async () => {
      for (const until = Date.now() + 1_500; Date.now() < until; ) {
        for (const path of ['/api/auth/health', '/api/dashboard/health/']) {
          const { res, ms } = await timed(path)
          expect(res.status).toBe(200)
          latencies.push(ms)
          requestIds.push(res.headers.get('x-request-id')!)
        }
        // Let the writer's 20 ms batches come due and meet the lock.
        await Bun.sleep(10)
      }
    })
    expect(Math.max(...latencies)).toBeLessThan(STALL_MS)
    expect(stall).toBeLessThan(STALL_MS)
    expect(requestIds.length).toBeGreaterThan(20)
    const sent = new Set(requestIds)
    const logged = async () => (await logRows(rt, (row) => sent.has(row.requestId))).length
    // Nothing can be written while the lock is held...
    expect(await logged()).toBe(0)
    await release()
    // ...and nothing is lost once it is gone, without anyone asking for a flush.
    expect(await eventually(async () => (await logged()) === requestIds.length)).toBe(true)
  }, 15_000)

  test('a sign-in that cannot write answers 503 with Retry-After within a second (OAuth lands on #error=temporarily_unavailable); it works again afterwards', async () => {
    await locked()
    const attempts = [
      ['/api/auth/login/', { email: 'writer@example.com', password }],
      ['/api/auth/register/', { email: 'newcomer@example.com', password }],
      ['/api/auth/refresh/', { refreshToken }],
    ] as const
    for (const [path, json] of attempts) {
      const { res, ms } = await timed(path, { method: 'POST', json })
      await expectBusy(res)
      expect(ms).toBeLessThan(1_000)
    }
    // A provider's sign-in lands on the frontend with OAuth's own "try again" code.
    idp.user = { sub: 'oidc-during-lock', email: 'oidc@example.com', emailVerified: true, name: 'Oidc' }
    const started = performance.now()
    const { fragment } = await browserSignIn(call, 'oidc')
    expect(fragment.get('error')).toBe('temporarily_unavailable')
    expect(performance.now() - started).toBeLessThan(1_500)
    await release()
    for (const [path, json] of attempts) expect((await call(path, { method: 'POST', json })).status).toBeOneOf([200, 201])
    expect((await browserSignIn(call, 'oidc')).fragment.get('accessToken')).toBeString()
  }, 15_000)

  test('an API key works; its last use is recorded once the lock is gone', async () => {
    const fresh = await seedUser(rt)
    await locked()
    const { res, ms } = await timed('/api/auth/me/', { token: fresh.apiKey })
    expect(res.status).toBe(200)
    expect(ms).toBeLessThan(STALL_MS)
    const lastUsed = async () => (await rt.store.keys.listLive(fresh.userId)).find((key) => key.id === fresh.apiKeyId)!.lastUsedAt
    expect(await lastUsed()).toBeNull()
    await release()
    expect(await eventually(async () => (await lastUsed()) !== null)).toBe(true)
  }, 15_000)

  test('a second server starts on the same database meanwhile: an up-to-date database needs no write to start', async () => {
    await locked()
    const started = performance.now()
    const second = await startRuntime(loadConfig({ DATABASE_URL: `sqlite://${databasePath}`, SECRET_KEY: TEST_SECRET }))
    expect(performance.now() - started).toBeLessThan(STALL_MS)
    await second.close()
    await release()
  }, 15_000)

  test('key creation, feedback and admin changes answer 503 with Retry-After; a threat raised meanwhile is recorded afterwards', async () => {
    await locked()
    await expectBusy(await call('/api/keys/', { method: 'POST', token: user.accessToken, json: { name: 'during the lock' } }))
    await expectBusy(await call('/api/feedback/', { method: 'POST', token: user.accessToken, json: { completionId, rating: 5 } }))
    await expectBusy(await call(`/api/admin/users/${user.userId}/`, { method: 'PATCH', token: admin.accessToken, json: { role: 'admin' } }))
    const forged = await call('/api/auth/me/', { token: 'sk-studio-not-a-key-at-all-0123456789abcdefghijklmnop' })
    expect(forged.status).toBe(401)
    const threats = async () => (await recordedThreats(rt, { type: 'invalid_token' })).length
    expect(await threats()).toBe(0)
    await release()
    expect(await eventually(async () => (await threats()) === 1)).toBe(true)
    const listed = await call('/api/admin/threats/?type=invalid_token', { token: admin.accessToken })
    expect(((await listed.json()) as { total: number }).total).toBe(1)
    expect((await call('/api/keys/', { method: 'POST', token: user.accessToken, json: { name: 'after the lock' } })).status).toBe(201)
  }, 15_000)
})
