// The compiled binary alone in an empty folder, seen through headless Chromium with every
// request that would leave 127.0.0.1 refused: Swagger UI renders the API, and an admin signs
// in to /admin, sees the charts drawn and the users table, and resolves a threat.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { buildBinary } from './support/binary'
import { hasChromium, offlineBrowser, paintedShares, signInWithForm } from './support/browser'
import { freePort, run, waitFor } from './support/process'

const folder = mkdtempSync(join(tmpdir(), 'studio-binary-browser-'))
const artifacts = join(import.meta.dir, 'artifacts')
const binary = join(folder, 'ai-studio')
const ADMIN = { email: 'ops@example.com', password: 'binary-admin-password' }
let server: ReturnType<typeof Bun.spawn> | undefined
let browser: Awaited<ReturnType<typeof offlineBrowser>>
let context: BrowserContext
let page: Page
let base = ''

async function studio(...args: string[]) {
  const result = await run([binary, ...args], { cwd: folder })
  if (result.code !== 0) throw new Error(`ai-studio ${args[0]} failed (${result.code}):\n${result.stderr}`)
}

beforeAll(async () => {
  if (!hasChromium) return
  mkdirSync(artifacts, { recursive: true })
  copyFileSync(await buildBinary(), binary)
  await studio('create-superuser', '--email', ADMIN.email, '--password', ADMIN.password)
  await studio('populate-dashboard-data', '--days', '7', '--users', '3', '--requests', '3000')
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  server = Bun.spawn([binary], { cwd: folder, env: { PORT: String(port), HOST: '127.0.0.1' }, stdout: 'ignore', stderr: 'inherit' })
  await waitFor(`${base}/api/auth/health/`, 20_000)
  // A forged token makes sure an unresolved threat exists, whatever the generated data holds.
  await fetch(`${base}/api/auth/me/`, { headers: { authorization: 'Bearer forged.token.value' } })
  browser = await offlineBrowser(join(folder, 'profile'))
  ;({ context, page } = browser)
}, 120_000)

afterAll(async () => {
  await context?.close()
  server?.kill('SIGTERM')
  await server?.exited
  rmSync(folder, { recursive: true, force: true })
}, 30_000)

describe.skipIf(!hasChromium)('the binary in a browser, offline', () => {
  test('Swagger UI renders the API from embedded assets', async () => {
    await page.goto(`${base}/swagger`)
    await page.locator('.swagger-ui .info .title').getByText('AI Studio backend').waitFor()
    await page.locator('.opblock').first().waitFor()
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20)
    expect(await page.locator('.opblock-summary-path', { hasText: '/v1/chat/completions' }).count()).toBeGreaterThan(0)
    await page.screenshot({ path: join(artifacts, 'binary-swagger.png') })
  }, 60_000)

  test('an admin signs in, sees drawn charts and the users table, and resolves a threat', async () => {
    await signInWithForm(page, base, ADMIN)
    await page.locator('.chart-card canvas').first().waitFor()
    await page.getByRole('button', { name: '7 days' }).click()
    await page.waitForURL(/range=7d/)
    const painted = await paintedShares(page, '.chart-card canvas', 7)
    expect(painted.length).toBeGreaterThanOrEqual(7)
    for (const share of painted) expect(share).toBeGreaterThan(0.01)
    await page.screenshot({ path: join(artifacts, 'binary-overview.png'), fullPage: true })

    await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Users', exact: true }).click()
    await page.getByRole('table', { name: 'Users' }).getByText(ADMIN.email).waitFor()

    await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'Threats', exact: true }).click()
    const resolve = page.getByRole('button', { name: /^Resolve threat \d+$/ }).first()
    const id = Number((await resolve.getAttribute('aria-label'))!.split(' ').pop())
    await resolve.click()
    await page.getByRole('button', { name: `Resolve threat ${id}` }).waitFor({ state: 'detached' })
    const token = await page.evaluate(() => localStorage.getItem('accessToken'))
    const threat = await fetch(`${base}/api/admin/threats/?resolved=true&limit=200`, { headers: { authorization: `Bearer ${token}` } })
    expect((await threat.json()).items.map((item: { id: number }) => item.id)).toContain(id)
  }, 90_000)

  test('nothing tried to leave 127.0.0.1 and no script failed', () => {
    expect(browser.external).toEqual([])
    expect(browser.pageErrors).toEqual([])
  })
})
