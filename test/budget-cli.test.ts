// `ai-studio budget` on a real database file: sets a user's and a key's budget (audited with no
// actor), lists them, removes one; bad flags exit 2 with the usage line, unknown holders exit 1,
// and it never creates a database.
import { afterAll, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp } from './support/app'
import { run } from './support/process'
import { seedUser } from './support/users'

// A process per command, a second or more each on a loaded 2-core machine: nothing here is timed.
setDefaultTimeout(90_000)

const folder = mkdtempSync(join(tmpdir(), 'studio-budget-cli-'))
const databaseUrl = `sqlite://${join(folder, 'studio.db')}`
const { rt, call, close } = await testApp({ DATABASE_URL: databaseUrl })
afterAll(async () => {
  await close()
  rmSync(folder, { recursive: true, force: true })
})

const entry = join(import.meta.dir, '..', 'src', 'index.ts')
const budget = (...args: string[]) => run([process.execPath, entry, 'budget', ...args], { cwd: folder, env: { DATABASE_URL: databaseUrl } })

test('sets, lists and removes budgets; the server sees them; each change is audited from the command line', async () => {
  const admin = await seedUser(rt, { role: 'admin' })
  const user = await seedUser(rt)
  const daily = await budget('--email', user.email, '--period', 'day', '--max-cost', '2.5', '--max-tokens', '1000')
  expect(daily).toMatchObject({ code: 0, stderr: '' })
  expect(daily.stdout).toContain(`user ${user.email}  day  cost 0/2.5  tokens 0/1000  resets `)
  const keyTotal = await budget('--key', user.apiKeyId, '--period', 'total', '--max-tokens', '50')
  expect(keyTotal.stdout).toContain('total  tokens 0/50  never resets')

  const listed = await budget('--email', user.email)
  expect(listed.stdout.trim().split('\n')).toHaveLength(1) // the user's own; the key's is listed under --key
  expect((await budget('--key', user.apiKeyId)).stdout).toContain('tokens 0/50')

  const res = await call('/api/budgets/', { token: user.accessToken })
  expect((await res.json()).items.map((each: { period: string }) => each.period).sort()).toEqual(['day', 'total'])

  const removed = await budget('--key', user.apiKeyId, '--period', 'total', '--remove')
  expect(removed.stdout).toContain('removed: ')
  expect((await budget('--key', user.apiKeyId)).stdout.trim()).toBe('no budgets')

  const audit = await call('/api/admin/audit/?targetType=budget', { token: admin.accessToken })
  const items = (await audit.json()).items as { action: string; actorUserId: string | null; ip: string | null }[]
  expect(items.map((entry) => entry.action)).toEqual(['budget.removed', 'budget.set', 'budget.set'])
  expect(items.every((entry) => entry.actorUserId === null && entry.ip === null)).toBe(true)
})

test('bad flags exit 2 with the usage; unknown holders and a missing database exit 1', async () => {
  const user = await seedUser(rt)
  for (const args of [
    [],
    ['--email', user.email, '--key', 'k'],
    ['--email', user.email, '--period', 'week', '--max-cost', '1'],
    ['--email', user.email, '--period', 'day', '--max-cost', '-1'],
    ['--email', user.email, '--period', 'day', '--max-tokens', '1.5'],
    ['--email', user.email, '--max-cost', '1'],
    ['--email', user.email, '--period', 'day'],
    ['--email', user.email, '--period', 'day', '--max-cost', '1', '--remove'],
    ['--email', 'not an email', '--period', 'day', '--max-cost', '1'],
  ]) {
    const result = await budget(...args)
    expect({ args, code: result.code }).toEqual({ args, code: 2 })
    expect(result.stderr).toContain('budget --email E')
  }
  expect((await budget('--email', 'nobody@example.com', '--period', 'day', '--max-cost', '1')).code).toBe(1)
  const unknownKey = await budget('--key', 'no-such-key', '--period', 'day', '--max-cost', '1')
  expect(unknownKey).toMatchObject({ code: 1, stderr: expect.stringContaining('No API key') })
  expect((await budget('--email', user.email, '--period', 'month', '--remove')).code).toBe(1)
  const elsewhere = await run([process.execPath, entry, 'budget', '--email', user.email], { cwd: folder, env: { DATABASE_URL: `sqlite://${join(folder, 'none.db')}` } })
  expect(elsewhere).toMatchObject({ code: 1, stderr: expect.stringContaining('no database at') })
})
