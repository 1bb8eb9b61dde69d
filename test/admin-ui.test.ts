// Drives the admin UI in headless Chromium against the real server running as a subprocess,
// with every request that would leave 127.0.0.1 blocked (and counted): the UI must work offline.
// Screenshots of each page land in test/artifacts/ for a person to look at. The charts are also
// read back through Chart.js (their data, gaps and axis labels), not only looked at.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { CHROMIUM, hasChromium, offlineBrowser, paintedShares, signInWithForm } from './support/browser'
import { openStore } from '../src/db/open'
import { freePort, run, waitFor } from './support/process'

if (!hasChromium) console.warn(`admin UI browser tests skipped: ${CHROMIUM} is missing (CI installs Debian's chromium package)`)

const root = join(import.meta.dir, '..')
const artifacts = join(import.meta.dir, 'artifacts')
const folder = mkdtempSync(join(tmpdir(), 'studio-admin-ui-'))
const ADMIN = { email: 'root@example.com', password: 'admin-password-123' }
/** A name that would run script if the UI ever rendered data as HTML. */
const MARKUP = '<img src=/x onerror="window.injected=1">Mallory'
const MEMBER = { email: 'member@example.com', password: 'member-password-123', name: MARKUP }
const LEAVER = { email: 'leaver@example.com', password: 'leaver-password-123' }

let server: ReturnType<typeof Bun.spawn> | undefined
let context: BrowserContext
let page: Page
let base = ''
let leaverKey = ''
let external: string[] = []
let pageErrors: string[] = []

const env = () => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: folder,
  DATABASE_URL: `sqlite://${join(folder, 'studio.db')}`,
  SECRET_KEY: 'browser-test-secret-key-that-is-long-enough-0123456789',
})

async function studio(...args: string[]) {
  const result = await run(['bun', join(root, 'src/index.ts'), ...args], { cwd: folder, env: env() })
  if (result.code !== 0) throw new Error(`studio ${args[0]} failed (${result.code}):\n${result.stderr}`)
  return result.stdout
}

async function http(path: string, init: { method?: string; json?: unknown; token?: string } = {}) {
  const headers: Record<string, string> = {}
  if (init.json !== undefined) headers['content-type'] = 'application/json'
  if (init.token) headers.authorization = `Bearer ${init.token}`
  return fetch(`${base}${path}`, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) })
}

async function register(account: { email: string; password: string; name?: string }): Promise<string> {
  const res = await http('/api/auth/register/', { method: 'POST', json: account })
  if (res.status !== 201) throw new Error(`register ${account.email}: ${res.status} ${await res.text()}`)
  return (await res.json()).accessToken
}

const shot = (name: string, target: Page = page, fullPage = true) =>
  target.screenshot({ path: join(artifacts, `admin-${name}.png`), fullPage })

const signIn = (target: Page, account: { email: string; password: string }) => signInWithForm(target, base, account)

/** Polls until `read` returns what `ok` accepts (the page updates asynchronously). */
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (ok(value) || Date.now() > deadline) return value
    await Bun.sleep(50)
  }
}

const nav = (name: string) => page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name, exact: true })

type DrawnChart = { title: string; labels: string[]; datasets: { data: (number | null)[]; spanGaps: unknown }[]; yTicks: string[] }

/** Every chart on the page as Chart.js holds it: title, x labels, data and the y-axis labels it drew. */
const drawnCharts = () =>
  page.evaluate(() =>
    Object.values((window as unknown as { Chart: { instances: Record<string, ChartLike> } }).Chart.instances).map((chart) => ({
      title: chart.canvas.closest('figure')!.querySelector('figcaption')!.textContent!,
      labels: chart.data.labels.map(String),
      datasets: chart.data.datasets.map((set) => ({ data: set.data as (number | null)[], spanGaps: set.spanGaps })),
      yTicks: (chart.scales.y?.ticks ?? []).map((tick) => String(tick.label)),
    })),
  )

/** The overview's charts once those of `range` (buckets in its Requests chart) are drawn. */
async function overviewCharts(buckets: number): Promise<Record<string, DrawnChart>> {
  const charts = await until(drawnCharts, (all) => all.find((chart) => chart.title === 'Requests')?.labels.length === buckets)
  return Object.fromEntries(charts.map((chart) => [chart.title, chart]))
}

async function chooseRange(name: string, value: string) {
  await page.getByRole('button', { name }).click()
  await page.waitForURL(new RegExp(`range=${value}$`))
  await page.locator('.figures').waitFor()
}

beforeAll(async () => {
  if (!hasChromium) return
  mkdirSync(artifacts, { recursive: true })
  await studio('migrate')
  await studio('create-superuser', '--email', ADMIN.email, '--password', ADMIN.password)
  await studio('populate-dashboard-data', '--days', '14', '--users', '3')
  // A key of the admin's made before keys had scopes (stored without them): a full-power key.
  const { store } = await openStore({ kind: 'sqlite', path: join(folder, 'studio.db') })
  const admin = (await store.accounts.findUserByEmail(ADMIN.email))!
  await store.keys.insertBelowLimit({ userId: admin.id, name: 'old script', prefix: 'sk-studio-old0', keyHash: 'old-key-hash', expiresAt: null, scopes: null, models: null }, 50, Date.now())
  await store.close()

  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  server = Bun.spawn(['bun', join(root, 'src/index.ts'), 'serve'], {
    cwd: folder,
    env: { ...env(), PORT: String(port), HOST: '127.0.0.1' },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  await waitFor(`${base}/api/auth/health/`, 20_000)

  await register(MEMBER)
  const leaverToken = await register(LEAVER)
  const created = await http('/api/keys/', { method: 'POST', json: { name: 'leaver tool' }, token: leaverToken })
  leaverKey = (await created.json()).key
  // A few forged tokens make an invalid_token threat to resolve.
  for (let i = 0; i < 3; i++) await http('/api/auth/me/', { token: 'forged.token.value' })

  ;({ context, page, external, pageErrors } = await offlineBrowser(join(folder, 'profile')))
}, 180_000)

afterAll(async () => {
  await context?.close()
  if (server) {
    server.kill('SIGTERM')
    await server.exited
  }
  rmSync(folder, { recursive: true, force: true })
}, 30_000)

describe.skipIf(!hasChromium)('the admin UI in a headless browser, offline', () => {
  test('an admin signs in through the form', async () => {
    await signIn(page, ADMIN)
    await nav('Overview').waitFor()
    expect(await page.evaluate(() => localStorage.getItem('refreshToken'))).toBeTruthy()
  }, 30_000)

  test("the overview opens on the API's default range, 24 hours, and draws every chart from the dashboard API", async () => {
    await nav('Overview').click()
    await page.locator('.figures').waitFor()
    expect(new URL(page.url()).search).toBe('')
    expect(await page.getByRole('button', { name: '24 hours' }).getAttribute('aria-pressed')).toBe('true')
    expect(await page.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed')).toBe('false')
    // One bucket per hour.
    expect((await overviewCharts(24)).Requests!.labels).toHaveLength(24)

    const charts = await page.evaluate(() =>
      Object.values((window as unknown as { Chart: { instances: Record<string, ChartLike> } }).Chart.instances).map((chart) => ({
        title: chart.canvas.closest('figure')!.querySelector('figcaption')!.textContent,
        points: chart.data.datasets.reduce((n, set) => n + set.data.filter((value) => Number(value) > 0).length, 0),
      })),
    )
    const titles = charts.map((chart) => chart.title)
    expect(titles).toEqual(expect.arrayContaining(['Requests', 'Latency', 'Cost', 'Top models', 'Top countries', 'Ratings', 'Threats by type']))
    for (const chart of charts) expect({ chart: chart.title, drawn: chart.points > 0 }).toEqual({ chart: chart.title, drawn: true })

    // Pixels, not just objects: every canvas has a good share of painted pixels.
    const painted = await paintedShares(page, '.chart-card canvas', charts.length)
    expect(painted.length).toBe(charts.length)
    for (const share of painted) expect(share).toBeGreaterThan(0.01)
    expect(await page.locator('.figure strong').first().textContent()).not.toBe('0')
    await shot('overview')

    await chooseRange('7 days', '7d')
    expect(await page.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed')).toBe('true')
    expect(await page.getByRole('button', { name: '24 hours' }).getAttribute('aria-pressed')).toBe('false')
    expect((await overviewCharts(7)).Requests!.labels).toHaveLength(7)
  }, 60_000)

  test('days without requests are gaps in the latency and cost lines, not 0 s and $0', async () => {
    // The data covers the last 14 days, so a month has days without any request.
    await chooseRange('1 month', '1m')
    const charts = await overviewCharts(30)
    const [success, error] = charts.Requests!.datasets.map((set) => set.data as number[])
    const requests = success!.map((count, day) => count + error![day]!)
    expect(requests.filter((count) => count === 0).length).toBeGreaterThanOrEqual(14)
    expect(requests.filter((count) => count > 0).length).toBeGreaterThanOrEqual(14)
    for (const title of ['Latency', 'Cost']) {
      const [line] = charts[title]!.datasets
      const gaps = line!.data.map((value) => value === null)
      expect({ title, gaps }).toEqual({ title, gaps: requests.map((count) => count === 0) })
      // Chart.js leaves a null point out and breaks the line there, unless told to span gaps.
      expect(line!.spanGaps).not.toBe(true)
    }
    await shot('overview-1m')
  }, 60_000)

  test('the cost axis labels are all different, whatever the size of the costs', async () => {
    for (const [name, value, buckets] of [['24 hours', '24h', 24], ['1 month', '1m', 30]] as const) {
      await chooseRange(name, value)
      const ticks = (await overviewCharts(buckets)).Cost!.yTicks
      expect(ticks.length).toBeGreaterThan(2)
      expect({ range: value, ticks }).toEqual({ range: value, ticks: [...new Set(ticks)] })
    }
    // An axis of fractions of a cent, as local models cost, through the chart's own tick callback.
    const subCent = await page.evaluate(() => {
      const chart = Object.values((window as unknown as { Chart: { instances: Record<string, ChartLike> } }).Chart.instances).find(
        (each) => each.canvas.closest('figure')!.querySelector('figcaption')!.textContent === 'Cost',
      )!
      const ticks = [0, 0.0005, 0.001, 0.0015, 0.002].map((value) => ({ value }))
      return ticks.map((tick, index) => chart.options.scales.y.ticks.callback.call(chart.scales.y, tick.value, index, ticks))
    })
    expect(subCent).toEqual(['$0.0000', '$0.0005', '$0.0010', '$0.0015', '$0.0020'])
  }, 60_000)

  test('the users table lists the accounts, and search narrows it', async () => {
    await nav('Users').click()
    await page.waitForURL(/\/admin\/users$/)
    const table = page.getByRole('table', { name: 'Users' })
    await table.getByText(ADMIN.email).waitFor()
    await table.getByText(LEAVER.email).waitFor()
    expect(await page.locator('.list-summary').textContent()).toMatch(/^Showing \d+ of \d+$/)
    await shot('users')

    await page.getByLabel('Search').fill('member@')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/search=member/)
    expect(await until(() => table.locator('tbody tr').count(), (n) => n === 1)).toBe(1)
    await table.getByText(MEMBER.email).waitFor()
    // Data is shown as text, never parsed as markup.
    await table.getByText(MARKUP).waitFor()
    expect(await table.locator('img').count()).toBe(0)
    expect(await page.evaluate(() => 'injected' in window)).toBe(false)
    await page.getByLabel('Search').fill('nobody-has-this-address')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.getByText('No user matches these filters.').waitFor()
  }, 60_000)

  test('deactivating a user (after confirming) cuts their API key at once', async () => {
    expect((await http('/api/auth/me/', { token: leaverKey })).status).toBe(200)
    await page.getByLabel('Search').fill(LEAVER.email)
    await page.getByRole('button', { name: 'Apply' }).click()
    const row = page.getByRole('row').filter({ hasText: LEAVER.email })
    await row.getByRole('button', { name: 'Deactivate' }).click()
    const dialog = page.getByRole('dialog', { name: 'Deactivate user' })
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    expect((await http('/api/auth/me/', { token: leaverKey })).status).toBe(200)

    await row.getByRole('button', { name: 'Deactivate' }).click()
    await dialog.getByRole('button', { name: 'Deactivate' }).click()
    await row.getByText('deactivated').waitFor()
    await page.getByRole('status').getByText(`${LEAVER.email} is deactivated`).waitFor()
    expect((await http('/api/auth/me/', { token: leaverKey })).status).toBe(401)
    await shot('users-deactivated')
  }, 60_000)

  test('a threat is resolved with one click', async () => {
    await nav('Threats').click()
    await page.getByLabel('Type').selectOption('invalid_token')
    await page.getByRole('button', { name: 'Apply' }).click()
    const resolve = page.getByRole('button', { name: /^Resolve threat \d+$/ }).first()
    const id = Number((await resolve.getAttribute('aria-label'))!.split(' ').pop())
    await shot('threats')
    await resolve.click()
    const row = page.getByRole('row').filter({ has: page.getByText('resolved', { exact: true }) }).first()
    await row.getByText(`by ${ADMIN.email}`, { exact: false }).waitFor()

    const token = await page.evaluate(() => localStorage.getItem('accessToken'))
    const open = await (await http('/api/admin/threats/?type=invalid_token&resolved=false&limit=200', { token: token! })).json()
    expect(open.items.map((threat: { id: number }) => threat.id)).not.toContain(id)
  }, 60_000)

  test('request logs page with "Load more", and a row opens its detail', async () => {
    await nav('Logs').click()
    const table = page.getByRole('table', { name: 'Request logs' })
    await table.locator('tbody tr').first().waitFor()
    expect(await table.locator('tbody tr').count()).toBe(50)
    await page.getByRole('button', { name: 'Load more' }).click()
    expect(await until(() => table.locator('tbody tr').count(), (n) => n > 50)).toBeGreaterThan(50)
    await table.getByRole('button', { name: /^Details of request \d+$/ }).first().click()
    const detail = page.getByRole('dialog')
    await detail.getByText('Request id').waitFor()
    await shot('log-detail', page, false)
    await page.keyboard.press('Escape')
    await detail.waitFor({ state: 'detached' })

    await page.getByLabel('Model').fill('no-such-model')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.getByText('Nothing matches these filters.').waitFor()
    await page.getByRole('button', { name: 'Reset' }).click()
    await table.locator('tbody tr').first().waitFor()
    await shot('logs', page, false)
  }, 60_000)

  test('feedback lists ratings and comments', async () => {
    await nav('Feedback').click()
    await page.getByRole('table', { name: 'Feedback' }).locator('tbody tr').first().waitFor()
    await shot('feedback')
  }, 30_000)

  test('API keys: the secret is shown once with a copy button, works, and is revoked', async () => {
    await nav('API keys').click()
    await page.getByRole('table', { name: 'Your API keys' }).getByText('old script').waitFor()
    await page.getByLabel('Name').fill('already expired')
    await page.getByLabel('Expires (optional)').fill('2020-01-01')
    await page.getByRole('button', { name: 'Create key' }).click()
    await page.getByRole('alert').getByText(/expiresAt/).waitFor()
    await page.getByLabel('Expires (optional)').fill('')
    await page.getByLabel('Name').fill('browser test key')
    await page.getByRole('button', { name: 'Create key' }).click()
    const secret = page.getByLabel('The new API key')
    const key = await secret.inputValue()
    expect(key).toStartWith('sk-studio-')
    await page.getByRole('button', { name: 'Copy' }).click()
    await page.getByText('Copied.').waitFor()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key)
    expect((await http('/api/auth/me/', { token: key })).status).toBe(200)
    const keysTable = page.getByRole('table', { name: 'Your API keys' })
    await keysTable.getByText('browser test key').waitFor()
    // New keys may call the models and read their user's data, as ticked by default.
    await keysTable.getByText('inference, read').waitFor()
    await shot('keys')

    await page.reload()
    await page.getByRole('table', { name: 'Your API keys' }).getByText('browser test key').waitFor()
    expect(await page.getByLabel('The new API key').count()).toBe(0)
    await page.getByRole('row', { name: /browser test key/ }).getByRole('button', { name: 'Revoke' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click()
    await page.getByText('Key “browser test key” is revoked.').waitFor()
    expect((await http('/api/auth/me/', { token: key })).status).toBe(401)
  }, 60_000)

  test('API keys: a key made with the admin scope and a model pattern; keys made before scopes are flagged full power', async () => {
    await nav('API keys').click()
    await page.getByLabel('Name').fill('scoped admin key')
    await page.getByLabel('Admin (the admin routes)').check()
    await page.getByLabel('Read (your dashboard, logs, conversations)').uncheck()
    await page.getByLabel('Models (optional)').fill('llama3*, qwen2.5:7b')
    await page.getByRole('button', { name: 'Create key' }).click()
    const key = await page.getByLabel('The new API key').inputValue()
    const row = page.getByRole('table', { name: 'Your API keys' }).getByRole('row', { name: /scoped admin key/ })
    await row.getByText('inference, admin').waitFor()
    await row.getByText('llama3*, qwen2.5:7b').waitFor()
    expect((await http('/api/admin/users/', { token: key })).status).toBe(200)
    // The admin's seeded key predates scopes.
    await page.getByRole('table', { name: 'Your API keys' }).getByText('full power').first().waitFor()
  }, 60_000)

  test('at phone width (375 px) pages fit the screen', async () => {
    const phone = await context.newPage()
    await phone.setViewportSize({ width: 375, height: 812 })
    for (const [name, path, ready] of [
      ['overview', '/admin/', '.chart-card canvas'],
      ['users', '/admin/users', 'tbody tr'],
      ['threats', '/admin/threats?resolved=', 'tbody tr'],
    ] as const) {
      await phone.goto(`${base}${path}`)
      await phone.locator(ready).first().waitFor()
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
      await shot(`${name}-375`, phone)
    }
    await phone.close()
  }, 60_000)

  test('an expired access token is refreshed once; a dead session goes back to sign-in', async () => {
    const before = await page.evaluate(() => localStorage.getItem('refreshToken'))
    await page.evaluate(() => localStorage.setItem('accessToken', 'expired.or.garbage'))
    await page.goto(`${base}/admin/users`)
    await page.getByRole('table', { name: 'Users' }).getByText(ADMIN.email).waitFor()
    const after = await page.evaluate(() => [localStorage.getItem('accessToken'), localStorage.getItem('refreshToken')])
    expect(after[0]).not.toBe('expired.or.garbage')
    expect(after[1]).not.toBe(before)

    await page.evaluate(() => {
      localStorage.setItem('accessToken', 'garbage')
      localStorage.setItem('refreshToken', 'garbage')
    })
    await page.reload()
    await page.getByText('Your session has ended. Please sign in again.').waitFor()
    await page.getByRole('button', { name: 'Sign in' }).waitFor()
    expect(await page.evaluate(() => localStorage.getItem('accessToken'))).toBeNull()
  }, 60_000)

  test('a wrong password shows the API message; a non-admin is told the admin role is required', async () => {
    await signIn(page, { email: ADMIN.email, password: 'not-the-password' })
    await page.getByRole('alert').waitFor()
    await signIn(page, MEMBER)
    await page.getByRole('alert').getByText(/Admin role required/).waitFor()
    expect(await page.evaluate(() => localStorage.getItem('refreshToken'))).toBeNull()
    await shot('admin-required')
  }, 60_000)

  test('a skip link leads to the content; sign-out forgets the tokens', async () => {
    await signIn(page, ADMIN)
    await nav('Overview').waitFor()
    await page.goto(`${base}/admin/users`)
    await page.getByRole('table', { name: 'Users' }).waitFor()
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content')
    await page.keyboard.press('Enter')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main')

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('button', { name: 'Sign in' }).waitFor()
    expect(await page.evaluate(() => [localStorage.getItem('accessToken'), localStorage.getItem('refreshToken')])).toEqual([null, null])
  }, 60_000)

  test('nothing tried to leave 127.0.0.1 and no script failed', async () => {
    expect(external).toEqual([])
    expect(pageErrors).toEqual([])
    // The guard itself works: a request for another host is seen and refused.
    await page.goto('http://example.org/').catch(() => {})
    expect(external).toEqual(['http://example.org/'])
  }, 30_000)
})

type ChartLike = {
  canvas: HTMLCanvasElement
  data: { labels: unknown[]; datasets: { data: unknown[]; spanGaps?: unknown }[] }
  scales: Record<string, { ticks: { value: number; label: unknown }[] }>
  options: { scales: { y: { ticks: { callback: (this: unknown, value: number, index: number, ticks: { value: number }[]) => string } } } }
}
