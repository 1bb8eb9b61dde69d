// The admin UI's audit page, users' keys page and user deletion, driven in headless Chromium
// against the real server (a subprocess), offline, as ./admin-ui.test.ts does for the other
// pages. The entries come from real acts made through the API; the page lists them newest
// first, filters narrow them, "Load more" pages on, the downloads hold the filtered entries,
// and values that hold markup are shown as text. Screenshots land in test/artifacts/.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { AUDIT_ACTIONS } from '../src/audit/actions'
import { CHROMIUM, hasChromium, offlineBrowser, signInWithForm } from './support/browser'
import { freePort, run, waitFor } from './support/process'

if (!hasChromium) console.warn(`admin UI audit browser tests skipped: ${CHROMIUM} is missing`)

const root = join(import.meta.dir, '..')
const artifacts = join(import.meta.dir, 'artifacts')
const folder = mkdtempSync(join(tmpdir(), 'studio-admin-ui-audit-'))
const ADMIN = { email: 'root@example.com', password: 'admin-password-123' }
const MEMBER = { email: 'member@example.com', password: 'member-password-123' }
const LEAVER = { email: 'leaver@example.com', password: 'leaver-password-123' }
/** A key name that would run script if the UI ever rendered a value as HTML. */
const MARKUP = '<img src=/x onerror="window.injected=1">tool'
/** Keys the member makes and revokes: 2 entries each, enough for a second page of 50. */
const CHURN = 30

let server: ReturnType<typeof Bun.spawn> | undefined
let context: BrowserContext
let page: Page
let base = ''
let external: string[] = []
let pageErrors: string[] = []
let adminToken = ''
let member = { id: '', token: '' }
let leaver = { id: '', token: '', key: '' }

const env = () => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: folder,
  DATABASE_URL: `sqlite://${join(folder, 'studio.db')}`,
  SECRET_KEY: 'browser-test-secret-key-that-is-long-enough-0123456789',
})

async function http(path: string, init: { method?: string; json?: unknown; token?: string } = {}) {
  const headers: Record<string, string> = {}
  if (init.json !== undefined) headers['content-type'] = 'application/json'
  if (init.token) headers.authorization = `Bearer ${init.token}`
  return fetch(`${base}${path}`, { method: init.method ?? 'GET', headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) })
}

async function expectOk(res: Response) {
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${await res.text()}`)
  return res.status === 204 ? null : res.json()
}

async function register(account: { email: string; password: string }) {
  const { accessToken, user } = await expectOk(await http('/api/auth/register/', { method: 'POST', json: account }))
  return { id: user.id as string, token: accessToken as string }
}

/** Every audit entry matching `query`, through the API (the reference the page is checked against). */
async function entries(query = '') {
  const all: { id: number; action: string; targetId: string | null }[] = []
  for (let cursor: number | null = null; ; ) {
    const page: { items: typeof all; nextCursor: number | null } = await expectOk(
      await http(`/api/admin/audit/?limit=200${query}${cursor ? `&cursor=${cursor}` : ''}`, { token: adminToken }),
    )
    all.push(...page.items)
    if (!(cursor = page.nextCursor)) return all
  }
}

const shot = (name: string) => page.screenshot({ path: join(artifacts, `admin-${name}.png`), fullPage: true })
const nav = (name: string) => page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name, exact: true })
const table = () => page.getByRole('table', { name: 'Audit trail' })
const rows = () => table().locator('tbody tr')
/** The Action column of every row shown. */
const actionsShown = () => table().locator('td[data-label="Action"]').allTextContents()

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (ok(value) || Date.now() > deadline) return value
    await Bun.sleep(50)
  }
}

async function applyFilters(fill: () => Promise<unknown>) {
  await page.getByRole('button', { name: 'Reset' }).click()
  await fill()
  await page.getByRole('button', { name: 'Apply' }).click()
}

beforeAll(async () => {
  if (!hasChromium) return
  mkdirSync(artifacts, { recursive: true })
  const studio = async (...args: string[]) => {
    const result = await run(['bun', join(root, 'src/index.ts'), ...args], { cwd: folder, env: env() })
    if (result.code !== 0) throw new Error(`studio ${args[0]} failed (${result.code}):\n${result.stderr}`)
  }
  await studio('migrate')
  await studio('create-superuser', '--email', ADMIN.email, '--password', ADMIN.password)

  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  server = Bun.spawn(['bun', join(root, 'src/index.ts'), 'serve'], { cwd: folder, env: { ...env(), PORT: String(port), HOST: '127.0.0.1' }, stdout: 'ignore', stderr: 'inherit' })
  await waitFor(`${base}/api/auth/health/`, 20_000)

  // Real acts through the API: sign-ins (one failed), keys made, used and revoked.
  adminToken = (await expectOk(await http('/api/auth/login/', { method: 'POST', json: ADMIN }))).accessToken
  member = await register(MEMBER)
  leaver = { ...(await register(LEAVER)), key: '' }
  leaver.key = (await expectOk(await http('/api/keys/', { method: 'POST', json: { name: 'leaver tool' }, token: leaver.token }))).key
  expect((await http('/api/auth/login/', { method: 'POST', json: { ...MEMBER, password: 'not the password' } })).status).toBe(401)
  await expectOk(await http('/api/keys/', { method: 'POST', json: { name: MARKUP }, token: member.token }))
  for (let i = 0; i < CHURN; i++) {
    const key = await expectOk(await http('/api/keys/', { method: 'POST', json: { name: `churn ${i}` }, token: member.token }))
    await expectOk(await http(`/api/keys/${key.id}/`, { method: 'DELETE', token: member.token }))
  }

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

describe.skipIf(!hasChromium)('the audit page and user management in a headless browser, offline', () => {
  test('entries of real acts, newest first, with actor, target, address, request id and the values before → after', async () => {
    await signInWithForm(page, base, ADMIN)
    await nav('Audit').waitFor()
    // The newest act: the admin makes the member an admin, then opens the page.
    await expectOk(await http(`/api/admin/users/${member.id}/`, { method: 'PATCH', json: { role: 'admin' }, token: adminToken }))
    await nav('Audit').click()
    await page.waitForURL(/\/admin\/audit$/)
    expect(await nav('Audit').getAttribute('aria-current')).toBe('page')
    await rows().first().waitFor()
    expect(await rows().count()).toBe(50)

    const newest = rows().first()
    expect(await newest.locator('td[data-label="Action"]').textContent()).toBe('user.role_changed')
    expect(await newest.locator('td[data-label="Actor"]').textContent()).toContain(ADMIN.email)
    expect(await newest.locator('td[data-label="Target"]').textContent()).toContain(member.id)
    expect(await newest.locator('td[data-label="Address"]').textContent()).toBe('127.0.0.1')
    expect(await newest.locator('td[data-label="Request id"]').textContent()).toMatch(/\S{8,}/)
    expect(await newest.locator('.changes del').textContent()).toBe('user')
    expect(await newest.locator('.changes ins').textContent()).toBe('admin')
    // A revocation: only `revoked` changed; the key's other values are context, not struck out.
    const revokedRow = rows().filter({ has: page.locator('td[data-label="Action"]', { hasText: 'api_key.revoked' }) }).first()
    expect(await revokedRow.locator('.changes del').allTextContents()).toEqual(['false'])
    expect(await revokedRow.locator('.changes ins').allTextContents()).toEqual(['true'])
    expect(await revokedRow.locator('.changes').textContent()).toContain(`churn ${CHURN - 1}`)
    // The order is the API's, newest first.
    const reference = (await entries()).slice(0, 50).map((entry) => entry.action)
    expect(await actionsShown()).toEqual(reference)
    await shot('audit')
  }, 60_000)

  test('the action filter offers every act the trail records', async () => {
    const offered = await page.getByLabel('Action').locator('option').evaluateAll((options) => (options as HTMLOptionElement[]).map((o) => o.value))
    expect(offered).toEqual(['', ...AUDIT_ACTIONS])
  })

  test('filters narrow the entries and live in the address', async () => {
    await applyFilters(() => page.getByLabel('Action').selectOption('sign_in.failed'))
    await page.waitForURL(/action=sign_in.failed/)
    expect(await until(actionsShown, (shown) => shown.length === 1)).toEqual(['sign_in.failed'])
    expect(await rows().first().locator('td[data-label="Target"]').textContent()).toContain(member.id)

    await applyFilters(async () => {
      await page.getByLabel('Target type').fill('user')
      await page.getByLabel('Target id').fill(member.id)
    })
    const aboutMember = (await entries(`&targetType=user&targetId=${member.id}`)).map((entry) => entry.action)
    expect(aboutMember.sort()).toEqual(['sign_in.failed', 'sign_in.succeeded', 'user.role_changed'])
    expect((await until(actionsShown, (shown) => shown.length === 3)).sort()).toEqual(aboutMember)

    await applyFilters(() => page.getByLabel('Actor (user id)').fill(leaver.id))
    expect((await until(actionsShown, (shown) => shown.length === 2)).sort()).toEqual(['api_key.created', 'sign_in.succeeded'])

    // A time range that ends before anything happened: nothing.
    await applyFilters(() => page.getByLabel('To', { exact: true }).fill('2020-01-01T00:00'))
    await page.getByText('No entry matches these filters.').waitFor()
  }, 60_000)

  test('"Load more" pages on to the oldest entry, without repeats', async () => {
    await page.getByRole('button', { name: 'Reset' }).click()
    await until(() => rows().count(), (n) => n === 50)
    const total = (await entries()).length
    expect(total).toBeGreaterThan(50)
    await page.getByRole('button', { name: 'Load more' }).click()
    expect(await until(() => rows().count(), (n) => n === total)).toBe(total)
    await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'hidden' })
    expect(await actionsShown()).toEqual((await entries()).map((entry) => entry.action))
  }, 60_000)

  test('values holding markup are shown as text, never run', async () => {
    await applyFilters(() => page.getByLabel('Action').selectOption('api_key.created'))
    const row = rows().filter({ hasText: MARKUP })
    await row.locator('.changes ins', { hasText: MARKUP }).waitFor()
    expect(await table().locator('img').count()).toBe(0)
    expect(await page.evaluate(() => 'injected' in window)).toBe(false)
  }, 60_000)

  test('the downloads hold the entries matching the filters applied, as CSV and JSON', async () => {
    await applyFilters(() => page.getByLabel('Action').selectOption('api_key.revoked'))
    await page.waitForURL(/action=api_key.revoked/)
    const revoked = await entries('&action=api_key.revoked')
    expect(revoked).toHaveLength(CHURN)

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()])
    expect(csv.suggestedFilename()).toMatch(/^audit-.+\.csv$/)
    const lines = readFileSync((await csv.path())!, 'utf8').trimEnd().split('\r\n')
    expect(lines[0]).toBe('id,at,action,actorUserId,actorEmail,targetType,targetId,ip,requestId,before,after')
    expect(lines.slice(1).map((line) => line.split(',')[2])).toEqual(revoked.map(() => 'api_key.revoked'))
    expect(lines.slice(1).map((line) => Number(line.split(',')[0]))).toEqual(revoked.map((entry) => entry.id))

    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()])
    const exported = JSON.parse(readFileSync((await json.path())!, 'utf8')) as { id: number; action: string }[]
    expect(exported.map((entry) => entry.id)).toEqual(revoked.map((entry) => entry.id))
  }, 60_000)

  test("users page: a user's keys open filtered, and an admin revokes one (audited)", async () => {
    await nav('Users').click()
    const row = page.getByRole('row').filter({ hasText: LEAVER.email })
    await row.getByRole('link', { name: `API keys of ${LEAVER.email}` }).click()
    await page.waitForURL(new RegExp(`/admin/user-keys\\?userId=${leaver.id}$`))
    const keys = page.getByRole('table', { name: 'API keys of users' })
    const key = keys.getByRole('row').filter({ hasText: 'leaver tool' })
    await key.waitFor()
    expect(await keys.locator('tbody tr').count()).toBe(1)
    expect((await http('/api/auth/me/', { token: leaver.key })).status).toBe(200)

    await key.getByRole('button', { name: 'Revoke leaver tool' }).click()
    await page.getByRole('dialog', { name: 'Revoke API key' }).getByRole('button', { name: 'Revoke' }).click()
    await key.getByText('revoked').waitFor()
    expect((await http('/api/auth/me/', { token: leaver.key })).status).toBe(401)
    const [entry] = await entries('&action=api_key.revoked')
    expect(entry).toMatchObject({ action: 'api_key.revoked', actorUserId: expect.any(String) })
    await shot('user-keys')
  }, 60_000)

  test('users page: Delete asks first, then removes the user; their token fails and the audit page shows the deletion', async () => {
    await nav('Users').click()
    const row = page.getByRole('row').filter({ hasText: LEAVER.email })
    await row.getByRole('button', { name: `Delete ${LEAVER.email}` }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete user' })
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    expect((await http('/api/auth/me/', { token: leaver.token })).status).toBe(200)

    await row.getByRole('button', { name: `Delete ${LEAVER.email}` }).click()
    await dialog.getByRole('button', { name: 'Delete' }).click()
    await page.getByRole('status').getByText(`${LEAVER.email} is deleted.`).waitFor()
    await row.waitFor({ state: 'detached' })
    expect((await http('/api/auth/me/', { token: leaver.token })).status).toBe(401)
    // No delete button for oneself.
    const self = page.getByRole('row').filter({ hasText: ADMIN.email })
    expect(await self.getByRole('button', { name: `Delete ${ADMIN.email}` }).count()).toBe(0)

    await nav('Audit').click()
    await applyFilters(() => page.getByLabel('Action').selectOption('user.deleted'))
    const deleted = rows().first()
    await deleted.locator('.changes del', { hasText: LEAVER.email }).waitFor()
    expect(await deleted.locator('td[data-label="Target"]').textContent()).toContain(leaver.id)
    await shot('audit-user-deleted')
  }, 60_000)

  test('at phone width (375 px) the audit page fits the screen', async () => {
    await page.setViewportSize({ width: 375, height: 800 })
    await page.reload()
    await rows().first().waitFor()
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await page.setViewportSize({ width: 1280, height: 900 })
  }, 60_000)

  test('nothing tried to leave 127.0.0.1 and no script failed', () => {
    expect(external).toEqual([])
    expect(pageErrors).toEqual([])
  })
})
