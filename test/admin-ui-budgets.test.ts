// The admin UI's Budgets page in headless Chromium, against an app on a real listener: an admin
// sets a user's budget by email and a key's by id, sees each with what it spent against its
// limits after real requests (a meter per limit, "used up" once spent), and removes one. Names
// that would run script are shown as text.
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp } from './support/app'
import { hasChromium, offlineBrowser, signInWithToken } from './support/browser'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { seedUser } from './support/users'

setDefaultTimeout(60_000)

const folder = mkdtempSync(join(tmpdir(), 'studio-admin-budgets-'))
const fake = await startFakeOllama()
afterAll(() => {
  fake.stop()
  rmSync(folder, { recursive: true, force: true })
})

describe.if(hasChromium)('admin UI: budgets', () => {
  test('set by email and by key id, shown with what was spent, removed', async () => {
    const app = await testApp({ OLLAMA_BASE_URL: fake.url, MODEL_PRICES: JSON.stringify({ 'llama3.2': { input: 0, output: 1_000_000 } }), RATE_LIMIT_CHAT: '0' })
    const server = listen(app.app)
    const admin = await seedUser(app.rt, { role: 'admin' })
    const member = await seedUser(app.rt, { email: 'member@example.com' })
    const { context, page, external, pageErrors } = await offlineBrowser(join(folder, 'profile'))
    try {
      await signInWithToken(page, server.url, admin.accessToken)
      await page.goto(`${server.url}/admin/budgets`)
      await page.getByText('No budgets are set').waitFor()

      const form = page.getByRole('form', { name: 'Set a budget' })
      await form.getByLabel('Email or key id').fill('member@example.com')
      await form.getByLabel('Period').selectOption('day')
      await form.getByLabel('Max cost').fill('25')
      await form.getByRole('button', { name: 'Set budget' }).click()
      await page.getByText('Budget set: day for member@example.com.').waitFor()

      await form.getByLabel('For').selectOption('key')
      await form.getByLabel('Email or key id').fill(member.apiKeyId)
      await form.getByLabel('Period').selectOption('total')
      await form.getByLabel('Max tokens').fill('100000')
      await form.getByRole('button', { name: 'Set budget' }).click()
      await page.getByText(/Budget set: total for key/).waitFor()

      // A bad holder is said, not thrown.
      await form.getByLabel('For').selectOption('user')
      await form.getByLabel('Email or key id').fill('nobody@example.com')
      await form.getByLabel('Max cost').fill('1')
      await form.getByRole('button', { name: 'Set budget' }).click()
      await page.getByText('No user has the email nobody@example.com.').waitFor()

      // Spend 20 of the 25 (two chats of 10 output tokens at 1 each), then one more is refused.
      fake.set({ chunks: 50 })
      for (let i = 0; i < 3; i++)
        await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${member.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10 }),
        })
      for (let waited = 0; waited < 3000; waited += 50) {
        const items = (await (await app.call('/api/admin/budgets/', { token: admin.accessToken })).json()).items
        if (items.some((b: { spent: { cost: number } }) => b.spent.cost === 20)) break
        await Bun.sleep(50)
      }
      await page.reload()
      const table = page.getByRole('table', { name: 'Budgets' })
      const userRow = table.getByRole('row', { name: /member@example\.com day/ })
      await userRow.getByText('20 of 25').waitFor()
      expect(await userRow.locator('meter').getAttribute('value')).toBe('20')
      const keyRow = table.getByRole('row', { name: /total/ })
      await keyRow.getByText('never').waitFor()
      expect(await keyRow.getByText(/of 100000/).textContent()).toMatch(/^\d+ of 100000$/)

      await userRow.getByRole('button', { name: 'Remove' }).click()
      await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click()
      await page.getByText('The day budget of member@example.com is removed.').waitFor()
      await table.getByRole('row', { name: /member@example\.com day/ }).waitFor({ state: 'detached' })
      expect(external).toEqual([])
      expect(pageErrors).toEqual([])
    } finally {
      await context.close()
      server.stop()
      await app.close()
    }
  })
})
