// More of the audit trail, besides ./audit.test.ts: the acts done from the command line besides
// `unblock` (`create-superuser` promoting an existing account records the role change and, for a
// deactivated account, its activation, with no actor, address or request), and the list of acts
// the admin UI's filter offers (GET /api/admin/audit/actions).
import { afterAll, expect, test } from 'bun:test'
import { AUDIT_ACTIONS } from '../src/audit/actions'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp } from './support/app'
import { onPostgres, testDatabaseUrl } from './support/database'
import { run } from './support/process'
import { seedUser } from './support/users'

const folder = mkdtempSync(join(tmpdir(), 'studio-audit-cli-'))
// A file (not memory) on SQLite, so that the command line reaches the same database.
const databaseUrl = onPostgres ? await testDatabaseUrl() : `sqlite://${join(folder, 'audit.db')}`
const { rt, call, close } = await testApp({ DATABASE_URL: databaseUrl })
afterAll(async () => {
  await close()
  rmSync(folder, { recursive: true, force: true })
})

const admin = await seedUser(rt, { role: 'admin', email: 'root@example.com' })
// Reads the trail: create-superuser revokes the sessions of the account it promotes (root's, in the second test).
const reader = await seedUser(rt, { role: 'admin', email: 'auditor@example.com' })

async function createSuperuser(email: string) {
  const entry = join(import.meta.dir, '..', 'src', 'index.ts')
  const result = await run([process.execPath, entry, 'create-superuser', '--email', email, '--password', 'a long enough password'], {
    cwd: folder,
    env: { DATABASE_URL: databaseUrl, SECRET_KEY: 'cli-test-secret-key-that-is-long-enough-0123' },
  })
  expect(result.code).toBe(0)
}

const entriesAbout = async (userId: string) =>
  (await (await call(`/api/admin/audit/?targetType=user&targetId=${userId}`, { token: reader.accessToken })).json()).items as Record<string, unknown>[]

test('create-superuser promoting a deactivated user: role changed and activated, from the command line', async () => {
  const member = await seedUser(rt, { email: 'member@example.com' })
  expect((await call(`/api/admin/users/${member.userId}/`, { method: 'PATCH', json: { isActive: false }, token: admin.accessToken })).status).toBe(200)
  await createSuperuser('member@example.com')
  const entries = (await entriesAbout(member.userId)).filter((entry) => entry.actorUserId === null)
  const fromCommandLine = { targetType: 'user', targetId: member.userId, actorUserId: null, actorEmail: null, ip: null, requestId: null }
  expect(entries).toEqual([
    expect.objectContaining({ ...fromCommandLine, action: 'user.activated', before: { isActive: false }, after: { isActive: true } }),
    expect.objectContaining({ ...fromCommandLine, action: 'user.role_changed', before: { role: 'user' }, after: { role: 'admin' } }),
  ])
})

test('create-superuser on an active admin (a new password) changes no role: nothing recorded', async () => {
  await createSuperuser('root@example.com')
  expect((await entriesAbout(admin.userId)).filter((entry) => entry.actorUserId === null)).toEqual([])
})

test('the acts the trail records, for admins only', async () => {
  const res = await call('/api/admin/audit/actions/', { token: reader.accessToken })
  expect(res.status).toBe(200)
  expect(await res.json()).toEqual({ data: [...AUDIT_ACTIONS] })
  expect(AUDIT_ACTIONS).toContain('user.deleted')
  expect((await call('/api/admin/audit/actions/')).status).toBe(401)
  const member = await seedUser(rt)
  expect((await call('/api/admin/audit/actions/', { token: member.accessToken })).status).toBe(403)
})
