// The audit trail through HTTP: each recorded act leaves its entry (actor, target, client
// address, request id, values before and after); filters and cursor pages; CSV and JSON export;
// no route alters or deletes an entry, nor does the database itself (an UPDATE is refused);
// admins only; the password never recorded; retention removes old entries only.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { auditEntries, pruneExpiredAudit, recordAudit } from '../src/audit/service'
import { DAY } from '../src/http/dates'
import { testApp } from './support/app'
import { onPostgres, testDatabaseUrl } from './support/database'
import { run } from './support/process'
import { seedUser } from './support/users'
import { holdWriteLock } from './support/write-lock'

const folder = mkdtempSync(join(tmpdir(), 'studio-audit-'))
// A file (not memory) on SQLite, so that the command line (`unblock`) reaches the same database.
const databaseUrl = onPostgres ? await testDatabaseUrl() : `sqlite://${join(folder, 'audit.db')}`
const { rt, call, close } = await testApp({ DATABASE_URL: databaseUrl, TRUST_PROXY: '1', AUDIT_RETENTION_DAYS: '30' })
afterAll(async () => {
  await close()
  rmSync(folder, { recursive: true, force: true })
})

const admin = await seedUser(rt, { role: 'admin', email: 'root@example.com' })
const alice = await seedUser(rt, { email: 'alice@example.com' })

const PASSWORD = 'correct horse battery staple'
const ADDRESS = '203.0.113.9'
let requests = 0

/** A call from ADDRESS with a request id of its own; returns the response and that id. */
async function act(path: string, init: Parameters<typeof call>[1] = {}) {
  const requestId = `audit-req-${++requests}`
  const headers = new Headers(init.headers)
  headers.set('x-forwarded-for', ADDRESS)
  headers.set('x-request-id', requestId)
  const res = await call(path, { ...init, headers })
  return { res, requestId }
}

type Entry = {
  id: number
  at: string
  action: string
  actorUserId: string | null
  actorEmail: string | null
  targetType: string | null
  targetId: string | null
  ip: string | null
  requestId: string | null
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
}

async function entries(query = ''): Promise<{ items: Entry[]; nextCursor: number | null }> {
  const res = await call(`/api/admin/audit/${query}`, { token: admin.accessToken })
  expect(res.status).toBe(200)
  return res.json()
}

/** The entries of one request. */
const entriesOf = async (requestId: string) => (await entries('?limit=200')).items.filter((entry) => entry.requestId === requestId)

describe('each act leaves its entry', () => {
  let registeredId = ''

  test('sign-in succeeded (registration and login), with the provider', async () => {
    const registered = await act('/api/auth/register', { method: 'POST', json: { email: 'carol@example.com', password: PASSWORD, name: 'Carol' } })
    expect(registered.res.status).toBe(201)
    const [entry] = await entriesOf(registered.requestId)
    registeredId = entry!.targetId!
    expect(entry).toMatchObject({ action: 'sign_in.succeeded', actorEmail: 'carol@example.com', targetType: 'user', ip: ADDRESS, after: { provider: 'email' } })
    expect(entry!.actorUserId).toBe(registeredId)
    expect(new Date(entry!.at).getTime()).toBeGreaterThan(Date.now() - 60_000)

    const login = await act('/api/auth/login', { method: 'POST', json: { email: 'Carol@Example.com', password: PASSWORD } })
    expect(login.res.status).toBe(200)
    expect(await entriesOf(login.requestId)).toEqual([expect.objectContaining({ action: 'sign_in.succeeded', actorUserId: registeredId, targetId: registeredId, ip: ADDRESS })])
  })

  test('sign-in failed: the account is the target when the email names one; an unknown email is not stored', async () => {
    const wrong = await act('/api/auth/login', { method: 'POST', json: { email: 'carol@example.com', password: 'not the password at all' } })
    expect(wrong.res.status).toBe(401)
    expect(await entriesOf(wrong.requestId)).toEqual([
      expect.objectContaining({ action: 'sign_in.failed', actorUserId: null, actorEmail: null, targetType: 'user', targetId: registeredId, ip: ADDRESS, after: { email: 'carol@example.com' } }),
    ])
    const unknown = await act('/api/auth/login', { method: 'POST', json: { email: 'nobody-here@example.com', password: PASSWORD } })
    expect(unknown.res.status).toBe(401)
    const [entry] = await entriesOf(unknown.requestId)
    expect(entry).toMatchObject({ action: 'sign_in.failed', targetType: null, targetId: null, before: null, after: null, ip: ADDRESS })
  })

  test('role changed, deactivated, activated, concurrency cap set: one entry each, with before and after', async () => {
    const promote = await act(`/api/admin/users/${alice.userId}`, { method: 'PATCH', json: { role: 'admin', maxConcurrentRequests: 3 }, token: admin.accessToken })
    expect(promote.res.status).toBe(200)
    const promoted = await entriesOf(promote.requestId)
    const common = { actorUserId: admin.userId, actorEmail: admin.email, targetType: 'user', targetId: alice.userId, ip: ADDRESS, requestId: promote.requestId }
    expect(promoted.map((entry) => entry.action).sort()).toEqual(['user.concurrency_cap_set', 'user.role_changed'])
    expect(promoted.find((entry) => entry.action === 'user.role_changed')).toMatchObject({ ...common, before: { role: 'user' }, after: { role: 'admin' } })
    expect(promoted.find((entry) => entry.action === 'user.concurrency_cap_set')).toMatchObject({ ...common, before: { maxConcurrentRequests: null }, after: { maxConcurrentRequests: 3 } })

    const demote = await act(`/api/admin/users/${alice.userId}`, { method: 'PATCH', json: { role: 'user', isActive: false }, token: admin.accessToken })
    expect(demote.res.status).toBe(200)
    const demoted = await entriesOf(demote.requestId)
    expect(demoted.find((entry) => entry.action === 'user.deactivated')).toMatchObject({ targetId: alice.userId, before: { isActive: true }, after: { isActive: false } })
    expect(demoted.find((entry) => entry.action === 'user.role_changed')).toMatchObject({ before: { role: 'admin' }, after: { role: 'user' } })

    const activate = await act(`/api/admin/users/${alice.userId}`, { method: 'PATCH', json: { isActive: true }, token: admin.accessToken })
    expect(await entriesOf(activate.requestId)).toEqual([expect.objectContaining({ action: 'user.activated', before: { isActive: false }, after: { isActive: true } })])

    // Nothing changed: nothing recorded. A refused change: nothing recorded.
    const same = await act(`/api/admin/users/${alice.userId}`, { method: 'PATCH', json: { isActive: true }, token: admin.accessToken })
    expect(same.res.status).toBe(200)
    expect(await entriesOf(same.requestId)).toEqual([])
    const self = await act(`/api/admin/users/${admin.userId}`, { method: 'PATCH', json: { role: 'user' }, token: admin.accessToken })
    expect(self.res.status).toBe(409)
    expect(await entriesOf(self.requestId)).toEqual([])
  })

  test('API key created (never its secret), first used, concurrency cap set, revoked', async () => {
    const created = await act('/api/keys', { method: 'POST', json: { name: 'ci, "nightly"', scopes: ['inference', 'read'], models: ['llama3*'] }, token: admin.accessToken })
    expect(created.res.status).toBe(201)
    const key = (await created.res.json()) as { id: string; key: string; prefix: string }
    const [entry] = await entriesOf(created.requestId)
    expect(entry).toMatchObject({
      action: 'api_key.created', actorUserId: admin.userId, targetType: 'api_key', targetId: key.id, ip: ADDRESS, before: null,
      after: { userId: admin.userId, name: 'ci, "nightly"', prefix: key.prefix, scopes: ['inference', 'read'], models: ['llama3*'], expiresAt: null },
    })
    expect(JSON.stringify(await entries('?limit=200'))).not.toContain(key.key)

    const used = await act('/api/auth/me', { token: key.key })
    expect(used.res.status).toBe(200)
    expect(await entriesOf(used.requestId)).toEqual([
      expect.objectContaining({ action: 'api_key.first_used', actorUserId: admin.userId, targetType: 'api_key', targetId: key.id, ip: ADDRESS }),
    ])
    const again = await act('/api/auth/me', { token: key.key })
    expect(again.res.status).toBe(200)
    expect(await entriesOf(again.requestId)).toEqual([])

    const capped = await act(`/api/admin/keys/${key.id}`, { method: 'PATCH', json: { maxConcurrentRequests: 2 }, token: admin.accessToken })
    expect(capped.res.status).toBe(200)
    expect(await entriesOf(capped.requestId)).toEqual([
      expect.objectContaining({ action: 'api_key.concurrency_cap_set', targetId: key.id, after: { maxConcurrentRequests: 2, userId: admin.userId } }),
    ])

    const revoked = await act(`/api/keys/${key.id}`, { method: 'DELETE', token: admin.accessToken })
    expect(revoked.res.status).toBe(204)
    expect(await entriesOf(revoked.requestId)).toEqual([
      expect.objectContaining({ action: 'api_key.revoked', actorUserId: admin.userId, targetId: key.id, before: expect.objectContaining({ name: 'ci, "nightly"', revoked: false }), after: { revoked: true } }),
    ])
    // Revoking it again fails and records nothing.
    const twice = await act(`/api/keys/${key.id}`, { method: 'DELETE', token: admin.accessToken })
    expect(twice.res.status).toBe(404)
    expect(await entriesOf(twice.requestId)).toEqual([])
  })

  test('threat resolved', async () => {
    rt.store.threats.record({ type: 'brute_force', severity: 'high', address: '198.51.100.4', detail: 'many failed sign-ins' }, Date.now())
    const threats = await (await call('/api/admin/threats/', { token: admin.accessToken })).json()
    const id = threats.items[0].id as number
    const resolved = await act(`/api/admin/threats/${id}/resolve`, { method: 'POST', token: admin.accessToken })
    expect(resolved.res.status).toBe(200)
    expect(await entriesOf(resolved.requestId)).toEqual([
      expect.objectContaining({ action: 'threat.resolved', actorUserId: admin.userId, targetType: 'threat', targetId: String(id), before: { resolved: false }, after: { resolved: true, resolvedBy: admin.email } }),
    ])
  })

  test('block lifted (`ai-studio unblock`, the command line: no actor, no address)', async () => {
    const entry = join(import.meta.dir, '..', 'src', 'index.ts')
    const result = await run([process.execPath, entry, 'unblock', '--email', 'carol@example.com', '--address', '192.0.2.55'], { cwd: folder, env: { DATABASE_URL: databaseUrl } })
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' })
    const lifted = (await entries('?action=sign_in_block.lifted')).items
    expect(lifted.map(({ targetType, targetId, actorUserId, ip, requestId, after }) => ({ targetType, targetId, actorUserId, ip, requestId, after }))).toEqual([
      { targetType: 'sign_in_block', targetId: '192.0.2.55', actorUserId: null, ip: null, requestId: null, after: { address: '192.0.2.55' } },
      { targetType: 'sign_in_block', targetId: 'carol@example.com', actorUserId: null, ip: null, requestId: null, after: { account: 'carol@example.com' } },
    ])
  })

  test('the password never appears in any entry', async () => {
    const all = JSON.stringify(await entries('?limit=200'))
    expect(all).not.toContain(PASSWORD)
    expect(all).not.toContain('not the password at all')
    expect(all).not.toContain('nobody-here@example.com')
    const csv = await (await call('/api/admin/audit/export?format=csv', { token: admin.accessToken })).text()
    expect(csv).not.toContain(PASSWORD)
  })
})

describe('list: filters and cursor pages', () => {
  test('by action, actor, target and time; newest first', async () => {
    const byAction = (await entries('?action=sign_in.failed')).items
    expect(byAction).toHaveLength(2)
    expect(byAction[0]!.id).toBeGreaterThan(byAction[1]!.id)
    const byActor = (await entries(`?actorUserId=${admin.userId}&limit=200`)).items
    expect(byActor.length).toBeGreaterThan(5)
    expect(byActor.every((entry) => entry.actorUserId === admin.userId)).toBe(true)
    const byTarget = (await entries(`?targetType=user&targetId=${alice.userId}`)).items
    expect(byTarget.map((entry) => entry.action)).toEqual(['user.activated', 'user.deactivated', 'user.role_changed', 'user.concurrency_cap_set', 'user.role_changed'])
    expect(byTarget.every((entry) => entry.targetId === alice.userId)).toBe(true)
    expect((await entries(`?to=${encodeURIComponent(new Date(Date.now() - DAY).toISOString())}`)).items).toEqual([])
    const recent = (await entries(`?from=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}&limit=200`)).items
    expect(recent.length).toBe((await entries('?limit=200')).items.length)
  })

  test('pages follow nextCursor to the end, without gaps or repeats', async () => {
    const all = (await entries('?limit=200')).items.map((entry) => entry.id)
    const seen: number[] = []
    let cursor: number | null = null
    do {
      const page: { items: Entry[]; nextCursor: number | null } = await entries(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      expect(page.items.length).toBeLessThanOrEqual(3)
      seen.push(...page.items.map((entry) => entry.id))
      cursor = page.nextCursor
    } while (cursor !== null)
    expect(seen).toEqual(all)
  })

  test('bad filters: a 400 naming the field', async () => {
    for (const [query, field] of [['?action=user.exploded', 'action'], ['?limit=0', 'limit'], ['?cursor=-1', 'cursor'], ['?from=yesterday', 'from']] as const) {
      const res = await call(`/api/admin/audit/${query}`, { token: admin.accessToken })
      expect(res.status).toBe(400)
      expect(JSON.stringify(await res.json())).toContain(field)
    }
  })
})

/** RFC 4180 parsing: quoted fields, doubled quotes, line breaks inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++
      else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') row.push(field), (field = '')
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field), rows.push(row), (row = []), (field = ''), i++
    } else field += c
  }
  if (field || row.length) row.push(field), rows.push(row)
  return rows
}

describe('export', () => {
  test('CSV: a header row, one row per entry, a name with a comma and quotes quoted properly', async () => {
    const res = await call('/api/admin/audit/export?format=csv&action=api_key.created', { token: admin.accessToken })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/csv')
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-.+\.csv"$/)
    const text = await res.text()
    expect(text).toContain('"{""userId"":')
    const [header, ...rows] = parseCsv(text)
    expect(header).toEqual(['id', 'at', 'action', 'actorUserId', 'actorEmail', 'targetType', 'targetId', 'ip', 'requestId', 'before', 'after'])
    expect(rows).toHaveLength(1)
    const row = Object.fromEntries(header!.map((name, i) => [name, rows[0]![i]]))
    expect(row).toMatchObject({ action: 'api_key.created', actorUserId: admin.userId, ip: ADDRESS, before: '' })
    expect(JSON.parse(row.after!)).toMatchObject({ name: 'ci, "nightly"', scopes: ['inference', 'read'] })
  })

  test('JSON: an array of the entries the list gives, same filters', async () => {
    const res = await call(`/api/admin/audit/export?format=json&actorUserId=${admin.userId}`, { token: admin.accessToken })
    expect(res.headers.get('content-type')).toContain('application/json')
    const exported = (await res.json()) as Entry[]
    expect(exported).toEqual((await entries(`?actorUserId=${admin.userId}&limit=200`)).items)
    const none = await call('/api/admin/audit/export?action=user.deactivated&to=2000-01-01T00:00:00Z', { token: admin.accessToken })
    expect(await none.json()).toEqual([])
  })

  test('bad format: 400', async () => {
    expect((await call('/api/admin/audit/export?format=xml', { token: admin.accessToken })).status).toBe(400)
  })
})

describe('append-only and admins only', () => {
  test('no route changes or deletes an entry', async () => {
    const before = await entries('?limit=200')
    const id = before.items[0]!.id
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST'])
      for (const path of ['/api/admin/audit/', `/api/admin/audit/${id}`, '/api/admin/audit/export']) {
        const res = await call(path, { method, json: method === 'DELETE' ? undefined : { action: 'nothing' }, token: admin.accessToken })
        expect({ method, path, refused: [404, 405].includes(res.status) }).toEqual({ method, path, refused: true })
      }
    expect(await entries('?limit=200')).toEqual(before)
  })

  test('the database refuses an UPDATE of an entry', async () => {
    const { items } = await entries('?limit=1')
    const update = `UPDATE audit_log SET action = 'forged' WHERE id = ${items[0]!.id}`
    if (onPostgres) {
      const { SQL } = await import('bun')
      const url = new URL(databaseUrl)
      const sql = new SQL({ url: databaseUrl.replace(url.search, ''), max: 1 })
      await sql.unsafe(`SET search_path TO ${url.searchParams.get('schema')}`)
      await expect(sql.unsafe(update)).rejects.toThrow('append-only')
      await sql.close()
    } else {
      const { Database } = await import('bun:sqlite')
      const db = new Database(join(folder, 'audit.db'))
      expect(() => db.run(update)).toThrow('append-only')
      db.close()
    }
    expect((await entries('?limit=1')).items).toEqual(items)
  })

  test('401 without a token, 403 for a non-admin (session or key)', async () => {
    // Not alice: her deactivation above ended her sessions and keys.
    const dave = await seedUser(rt, { email: 'dave@example.com' })
    for (const path of ['/api/admin/audit/', '/api/admin/audit/export?format=csv']) {
      expect((await call(path)).status).toBe(401)
      expect((await call(path, { token: dave.accessToken })).status).toBe(403)
      expect((await call(path, { token: dave.apiKey })).status).toBe(403)
    }
  })
})

describe('retention (AUDIT_RETENTION_DAYS)', () => {
  test('removes entries older than the setting, and only those', async () => {
    const now = Date.now()
    const old = { action: 'threat.resolved', actorUserId: null, actorEmail: null, targetType: 'threat', targetId: 'old', ip: null, requestId: null, before: null, after: null }
    await rt.store.audit.append([
      { ...old, at: now - 31 * DAY },
      { ...old, at: now - 30 * DAY - 1000 },
      { ...old, targetId: 'kept', at: now - 29 * DAY },
    ])
    const before = (await entries('?limit=200')).items.length
    expect(await pruneExpiredAudit(rt, now)).toBe(2)
    const after = (await entries('?limit=200')).items
    expect(after.length).toBe(before - 2)
    expect(after.some((entry) => entry.targetId === 'old')).toBe(false)
    expect(after.some((entry) => entry.targetId === 'kept')).toBe(true)
    expect(await pruneExpiredAudit(rt, now)).toBe(0)
  })

  test('0 (the default) keeps every entry', async () => {
    const kept = await testApp()
    try {
      await kept.rt.store.audit.append([{ action: 'threat.resolved', actorUserId: null, actorEmail: null, targetType: null, targetId: null, ip: null, requestId: null, before: null, after: null, at: 0 }])
      expect(kept.rt.config.auditRetentionDays).toBe(0)
      expect(await pruneExpiredAudit(kept.rt)).toBe(0)
      expect(await kept.rt.store.audit.list({ limit: 10 })).toHaveLength(1)
    } finally {
      await kept.close()
    }
  })
})

describe('the writer', () => {
  test('a clean shutdown loses no entry: everything queued is written before the database closes', async () => {
    const url = onPostgres ? await testDatabaseUrl() : `sqlite://${join(folder, 'shutdown.db')}`
    const first = await testApp({ DATABASE_URL: url })
    const origin = { actorUserId: null, actorEmail: null, ip: null, requestId: null }
    for (let i = 0; i < 1_200; i++) recordAudit(first.rt, origin, { action: 'threat.resolved', targetType: 'threat', targetId: String(i) })
    await first.close()
    const second = await testApp({ DATABASE_URL: url })
    try {
      const ids = new Set<string>()
      for await (const entry of auditEntries(second.rt, {})) ids.add(entry.targetId!)
      expect(ids.size).toBe(1_200)
    } finally {
      await second.close()
    }
  })

  test.skipIf(onPostgres)('while another process holds SQLite\'s write lock, the request is answered and its entry is written once the lock goes', async () => {
    const erin = await seedUser(rt, { email: 'erin@example.com' })
    const lock = await holdWriteLock(join(folder, 'audit.db'))
    let used: Awaited<ReturnType<typeof act>>
    try {
      used = await act('/api/auth/me', { token: erin.apiKey })
      expect(used.res.status).toBe(200)
      // Reading goes on under the lock; the entry waits, kept, for the lock to go.
      expect(await entriesOf(used.requestId)).toEqual([])
    } finally {
      await lock.release()
    }
    expect(await entriesOf(used.requestId)).toEqual([expect.objectContaining({ action: 'api_key.first_used', targetId: erin.apiKeyId, actorUserId: erin.userId })])
  })
})
