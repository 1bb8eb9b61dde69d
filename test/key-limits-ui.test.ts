// The admin UI's API keys page in headless Chromium, offline, against an app on a real listener:
// a key made with an expiry, its own requests per minute per group and tokens per minute is
// stored and listed with them; a limit the API refuses is shown as its error, and no key is made.
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp } from './support/app'
import { hasChromium, offlineBrowser, signInWithToken } from './support/browser'
import { listen } from './support/listen'
import { seedUser } from './support/users'

setDefaultTimeout(60_000)

const artifacts = join(import.meta.dir, 'artifacts')
const folder = mkdtempSync(join(tmpdir(), 'studio-key-limits-ui-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

describe.if(hasChromium)('admin UI: API keys with expiry and limits', () => {
  test('a key made with an expiry, requests per minute for two groups and tokens per minute is stored and listed with them; one the API refuses shows its error', async () => {
    const app = await testApp()
    const server = listen(app.app)
    const admin = await seedUser(app.rt, { role: 'admin' })
    const keys = async () => (await (await app.call('/api/keys/', { token: admin.accessToken })).json()).data as any[]
    const { context, page, external, pageErrors } = await offlineBrowser(join(folder, 'profile'))
    try {
      await signInWithToken(page, server.url, admin.accessToken)
      await page.goto(`${server.url}/admin/`)
      await page.getByRole('navigation', { name: 'Admin sections' }).getByRole('link', { name: 'API keys', exact: true }).click()

      await page.getByLabel('Name').fill('limited key')
      await page.getByLabel('Expires (optional)').fill('2099-12-31')
      await page.getByLabel('Chat', { exact: true }).fill('20')
      await page.getByLabel('Embeddings', { exact: true }).fill('100')
      await page.getByLabel('Tokens per minute (optional)').fill('5000')
      await page.getByRole('button', { name: 'Create key' }).click()
      expect(await page.getByLabel('The new API key').inputValue()).toStartWith('sk-studio-')
      const table = page.getByRole('table', { name: 'Your API keys' })
      const row = table.getByRole('row', { name: /limited key/ })
      await row.getByText('chat 20/min, embeddings 100/min, 5,000 tokens/min').waitFor()
      await row.getByText(/2099/).waitFor()
      mkdirSync(artifacts, { recursive: true })
      await page.screenshot({ path: join(artifacts, 'admin-key-limits.png'), fullPage: true })
      const stored = (await keys()).find((key) => key.name === 'limited key')
      expect(stored).toMatchObject({ rateLimits: { chat: 20, embeddings: 100 }, tokensPerMinute: 5000 })
      expect(stored.expiresAt).toStartWith('2099-12-31')
      // The form is empty again: the next key has no limits unless some are typed.
      expect(await page.getByLabel('Chat', { exact: true }).inputValue()).toBe('')

      // The seeded key (made without limits) is listed with none.
      await table.getByRole('row', { name: /^test / }).getByText('None', { exact: true }).waitFor()

      await page.getByLabel('Name').fill('too many tokens')
      await page.getByLabel('Tokens per minute (optional)').fill('1000000000000')
      await page.getByRole('button', { name: 'Create key' }).click()
      await page.getByRole('alert').getByText(/tokensPerMinute must be a whole number of tokens/).waitFor()
      expect((await keys()).some((key) => key.name === 'too many tokens')).toBe(false)
      expect(pageErrors).toEqual([])
      expect(external).toEqual([])
    } finally {
      await context.close()
      server.stop()
      await app.close()
    }
  })
})
