// The admin UI's API keys page in headless Chromium (as test/admin-ui.test.ts, against the real
// server as a subprocess, offline): a key made with an expiry, its own requests per minute per
// group and tokens per minute is stored with them and listed with them; a limit the API refuses
// is shown as its error, and no key is made.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { CHROMIUM, hasChromium, offlineBrowser } from './support/browser'
import { freePort, run, waitFor } from './support/process'

if (!hasChromium) console.warn(`key limits browser tests skipped: ${CHROMIUM} is missing (CI installs Debian's chromium package)`)

const root = join(import.meta.dir, '..')
const artifacts = join(import.meta.dir, 'artifacts')
const folder = mkdtempSync(join(tmpdir(), 'studio-key-limits-ui-'))
const ADMIN = { email: 'root@example.com', password: 'admin-password-123' }

let server: ReturnType<typeof Bun.spawn> | undefined
let context: BrowserContext
let page: Page
let base = ''
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
}

/** The admin's keys, through the API (a session of its own). */
async function adminKeys(): Promise<any[]> {
  const login = await fetch(`${base}/api/auth/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) })
  const { accessToken } = await login.json()
  return (await (await fetch(`${base}/api/keys/`, { headers: { authorization: `Bearer ${accessToken}` } })).json()).data
}

beforeAll(async () => {
  if (!hasChromium) return
  mkdirSync(artifacts, { recursive: true })
  await studio('migrate')
  await studio('create-superuser', '--email', ADMIN.email, '--password', ADMIN.password)
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  server = Bun.spawn(['bun', join(root, 'src/index.ts'), 'serve'], {
    cwd: folder,
    env: { ...env(), PORT: String(port), HOST: '127.0.0.1' },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  await waitFor(`${base}/api/auth/health/`, 20_000)
  ;({ context, page, external, pageErrors } = await offlineBrowser(join(folder, 'profile')))
  await page.goto(`${base}/admin`)
  await page.getByLabel('Email').fill(ADMIN.email)
  await page.getByLabel('Password').fill(ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'API keys', exact: true }).click()
}, 180_000)

afterAll(async () => {
  await context?.close()
  if (server) {
    server.kill('SIGTERM')
    await server.exited
  }
  rmSync(folder, { recursive: true, force: true })
}, 30_000)

describe.skipIf(!hasChromium)('API keys page: expiry and limits', () => {
  test('a key made with an expiry, requests per minute for two groups and tokens per minute: stored and listed with them', async () => {
    await page.getByLabel('Name').fill('limited key')
    await page.getByLabel('Expires (optional)').fill('2099-12-31')
    await page.getByLabel('Chat', { exact: true }).fill('20')
    await page.getByLabel('Embeddings', { exact: true }).fill('100')
    await page.getByLabel('Tokens per minute (optional)').fill('5000')
    await page.getByRole('button', { name: 'Create key' }).click()
    expect(await page.getByLabel('The new API key').inputValue()).toStartWith('sk-studio-')
    const row = page.getByRole('table', { name: 'Your API keys' }).getByRole('row', { name: /limited key/ })
    await row.getByText('chat 20/min, embeddings 100/min, 5,000 tokens/min').waitFor()
    await row.getByText(/2099/).waitFor()
    await page.screenshot({ path: join(artifacts, 'admin-key-limits.png'), fullPage: true })
    const stored = (await adminKeys()).find((key) => key.name === 'limited key')
    expect(stored).toMatchObject({ rateLimits: { chat: 20, embeddings: 100 }, tokensPerMinute: 5000 })
    expect(stored.expiresAt).toStartWith('2099-12-31')
    // The form is empty again: the next key has no limits unless some are typed.
    expect(await page.getByLabel('Chat', { exact: true }).inputValue()).toBe('')
  }, 60_000)

  test('a key without limits is listed with none; a limit the API refuses shows its error, and no key is made', async () => {
    await page.getByLabel('Name').fill('plain key')
    await page.getByRole('button', { name: 'Create key' }).click()
    await page.getByRole('table', { name: 'Your API keys' }).getByRole('row', { name: /plain key/ }).getByText('None', { exact: true }).waitFor()

    await page.getByLabel('Name').fill('too many tokens')
    await page.getByLabel('Tokens per minute (optional)').fill('1000000000000')
    await page.getByRole('button', { name: 'Create key' }).click()
    await page.getByRole('alert').getByText(/tokensPerMinute must be a whole number of tokens/).waitFor()
    expect((await adminKeys()).some((key) => key.name === 'too many tokens')).toBe(false)
    expect(pageErrors).toEqual([])
    expect(external).toEqual([])
  }, 60_000)
})
