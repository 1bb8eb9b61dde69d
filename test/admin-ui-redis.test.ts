// The admin overview says whether Redis holds the limits: "shared" while it answers; lost, what
// that means under REDIS_FAILURE (each replica counting alone, or requests refused); nothing
// without REDIS_URL. In headless Chromium, against an app on a real listener whose Redis is
// behind a proxy the test closes.
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp } from './support/app'
import { hasChromium, offlineBrowser, signInWithToken } from './support/browser'
import { listen } from './support/listen'
import { redisReachable, redisTestUrl, testPrefix } from './support/redis'
import { tcpProxy } from './support/tcp-proxy'
import { seedUser } from './support/users'

setDefaultTimeout(60_000)

const reachable = hasChromium && (await redisReachable('test/admin-ui-redis.test.ts'))
const folder = mkdtempSync(join(tmpdir(), 'studio-admin-redis-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

/** The overview of an app with `env`, signed in as an admin; `line()` reads its Redis status once the page has drawn. */
async function overviewOf(env: Record<string, string>) {
  const app = await testApp(env)
  const server = listen(app.app)
  const admin = await seedUser(app.rt, { role: 'admin' })
  const { context, page, external, pageErrors } = await offlineBrowser(join(folder, `profile-${Bun.randomUUIDv7()}`))
  await signInWithToken(page, server.url, admin.accessToken)
  const status = page.locator('.redis-status')
  return {
    url: server.url,
    async line(expected: string | null) {
      const health = page.waitForResponse((res) => res.url().endsWith('/api/dashboard/health/'))
      await page.goto(`${server.url}/admin/`)
      await page.locator('.figures').waitFor()
      await health
      if (expected === null) expect(await status.isHidden()).toBe(true)
      else await page.getByText(expected).waitFor()
      return { warned: (await status.getAttribute('data-up')) === 'false' }
    },
    async close() {
      expect(external).toEqual([])
      expect(pageErrors).toEqual([])
      await context.close()
      server.stop()
      await app.close()
    },
  }
}

describe.if(reachable)('admin overview: Redis status', () => {
  test('REDIS_FAILURE=local: shared, then unreachable (each replica counts alone), then shared again', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const overview = await overviewOf({ REDIS_URL: proxy.url, REDIS_PREFIX: testPrefix() })
    try {
      expect(await overview.line('Redis: shared')).toEqual({ warned: false })
      proxy.stop()
      expect(await overview.line('Redis: unreachable (each replica counts alone)')).toEqual({ warned: true })
      proxy.start()
      // The link's probe finds Redis again within a second or two.
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await Bun.sleep(100))
        if ((await (await fetch(`${overview.url}/api/dashboard/health/`)).json()).redis.up) break
      expect(await overview.line('Redis: shared')).toEqual({ warned: false })
    } finally {
      await overview.close()
      proxy.stop()
    }
  })

  test('REDIS_FAILURE=closed: unreachable, requests that need it are refused', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    // The overview's own requests must not need Redis here: no dashboard rate limit.
    const overview = await overviewOf({ REDIS_URL: proxy.url, REDIS_PREFIX: testPrefix(), REDIS_FAILURE: 'closed', RATE_LIMIT_DASHBOARD: '0', RATE_LIMIT_ANONYMOUS: '0' })
    try {
      proxy.stop()
      expect(await overview.line('Redis: unreachable (requests that need it are refused)')).toEqual({ warned: true })
    } finally {
      await overview.close()
      proxy.stop()
    }
  })

  test('without REDIS_URL nothing is said about Redis', async () => {
    const overview = await overviewOf({})
    try {
      await overview.line(null)
    } finally {
      await overview.close()
    }
  })
})
