import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { insertRequestLog, settle, type RequestLogValues } from './support/log'
import { queryPlan } from './support/tables'
import { seedUser } from './support/users'

const { rt, call, close } = await testApp()
afterAll(close)

const admin = await seedUser(rt, { role: 'admin', email: 'root@example.com', name: 'Root' })
const alice = await seedUser(rt, { email: 'alice@example.com', name: 'Alice Liddell' })
const bob = await seedUser(rt, { email: 'bob_smith@example.com', name: 'Bob' })

const insertLog = (values: RequestLogValues) => insertRequestLog(rt, values)

describe('admin API access', () => {
  test.each([
    ['GET', '/api/admin/users/'],
    ['PATCH', `/api/admin/users/${alice.userId}/`],
    ['GET', '/api/admin/logs/'],
    ['GET', '/api/admin/logs/1/'],
    ['GET', '/api/admin/feedback/'],
    ['GET', '/api/admin/threats/'],
    ['POST', '/api/admin/threats/1/resolve/'],
  ])('%s %s: 401 without a token, 403 for a non-admin', async (method, path) => {
    const json = method === 'PATCH' ? { role: 'admin' } : undefined
    expect((await call(path, { method, json })).status).toBe(401)
    const res = await call(path, { method, json, token: alice.accessToken })
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ error: 'Forbidden', message: expect.any(String) })
  })
})

describe('users', () => {
  test('list, search (wildcards are literal), filter and page', async () => {
    const all = await (await call('/api/admin/users/', { token: admin.accessToken })).json()
    expect(all.total).toBe(3)
    expect(all.items[0]).toMatchObject({ email: expect.any(String), role: expect.any(String), isActive: true })
    const found = await (await call('/api/admin/users/?search=LIDDELL', { token: admin.accessToken })).json()
    expect(found.items.map((u: { email: string }) => u.email)).toEqual(['alice@example.com'])
    const underscore = await (await call('/api/admin/users/?search=b_s', { token: admin.accessToken })).json()
    expect(underscore.items.map((u: { email: string }) => u.email)).toEqual(['bob_smith@example.com'])
    const percent = await (await call('/api/admin/users/?search=%25', { token: admin.accessToken })).json()
    expect(percent.total).toBe(0)
    const admins = await (await call('/api/admin/users/?role=admin', { token: admin.accessToken })).json()
    expect(admins.items.map((u: { email: string }) => u.email)).toEqual(['root@example.com'])
    const page1 = await (await call('/api/admin/users/?limit=2', { token: admin.accessToken })).json()
    expect(page1.items).toHaveLength(2)
    const page2 = await (await call(`/api/admin/users/?limit=2&cursor=${page1.nextCursor}`, { token: admin.accessToken })).json()
    expect(page2.items).toHaveLength(1)
    expect(page2.nextCursor).toBeNull()
    expect((await call('/api/admin/users/?limit=0', { token: admin.accessToken })).status).toBe(400)
    expect((await call('/api/admin/users/?role=root', { token: admin.accessToken })).status).toBe(400)
  })

  test('promote and demote', async () => {
    const res = await call(`/api/admin/users/${bob.userId}/`, { method: 'PATCH', json: { role: 'admin' }, token: admin.accessToken })
    expect(res.status).toBe(200)
    expect((await res.json()).role).toBe('admin')
    expect((await call('/api/admin/users/', { token: bob.accessToken })).status).toBe(200)
    await call(`/api/admin/users/${bob.userId}`, { method: 'PATCH', json: { role: 'user' }, token: admin.accessToken })
    expect((await call('/api/admin/users/', { token: bob.accessToken })).status).toBe(403)
  })

  test('deactivation cuts tokens and keys at once and revokes them for good', async () => {
    const carol = await seedUser(rt)
    const off = await call(`/api/admin/users/${carol.userId}/`, { method: 'PATCH', json: { isActive: false }, token: admin.accessToken })
    expect((await off.json()).isActive).toBe(false)
    expect((await call('/api/admin/logs/', { token: carol.accessToken })).status).toBe(401)
    expect((await call('/api/admin/logs/', { token: carol.apiKey })).status).toBe(401)
    await call(`/api/admin/users/${carol.userId}/`, { method: 'PATCH', json: { isActive: true }, token: admin.accessToken })
    expect((await call('/api/admin/logs/', { token: carol.apiKey })).status).toBe(401)
    expect((await call('/api/admin/logs/', { token: carol.accessToken })).status).toBe(401)
  })

  test('a role and a deactivation in one change: both apply, and the tokens and keys are revoked', async () => {
    const dave = await seedUser(rt)
    const res = await call(`/api/admin/users/${dave.userId}/`, { method: 'PATCH', json: { role: 'admin', isActive: false }, token: admin.accessToken })
    expect(await res.json()).toMatchObject({ role: 'admin', isActive: false })
    expect((await call('/api/admin/logs/', { token: dave.accessToken })).status).toBe(401)
    expect((await call('/api/admin/logs/', { token: dave.apiKey })).status).toBe(401)
  })

  test('bad changes are refused', async () => {
    const self = await call(`/api/admin/users/${admin.userId}/`, { method: 'PATCH', json: { isActive: false }, token: admin.accessToken })
    expect(self.status).toBe(409)
    expect((await call('/api/admin/users/nope/', { method: 'PATCH', json: { role: 'user' }, token: admin.accessToken })).status).toBe(404)
    expect((await call(`/api/admin/users/${bob.userId}/`, { method: 'PATCH', json: {}, token: admin.accessToken })).status).toBe(400)
    const wrong = await call(`/api/admin/users/${bob.userId}/`, { method: 'PATCH', json: { role: 'god' }, token: admin.accessToken })
    expect(wrong.status).toBe(400)
    expect((await wrong.json()).message).toContain('role')
  })
})

describe('request logs', () => {
  const hour = 3_600_000
  const t0 = Date.UTC(2026, 0, 1)
  beforeAll(async () => {
    await insertLog({ userId: alice.userId, model: 'llama3.2', createdAt: t0 })
    await insertLog({ userId: alice.userId, model: 'qwen3', status: 500, outcome: 'server_error', createdAt: t0 + hour })
    await insertLog({ userId: bob.userId, model: 'llama3.2', status: 404, outcome: 'client_error', createdAt: t0 + 2 * hour })
  })

  test('filters by user, model, status, outcome and time; pages by cursor', async () => {
    // Within the rows above: the requests this file makes are logged too (now, when the writer flushes).
    const until = `to=${new Date(t0 + 3 * hour).toISOString()}`
    const get = async (query: string) => (await (await call(`/api/admin/logs/?${query}&${until}`, { token: admin.accessToken })).json()).items
    expect(await get(`userId=${alice.userId}`)).toHaveLength(2)
    expect(await get('model=qwen3')).toHaveLength(1)
    expect(await get('status=404')).toMatchObject([{ userEmail: 'bob_smith@example.com', outcome: 'client_error' }])
    expect(await get('outcome=server_error')).toHaveLength(1)
    const window = `from=${new Date(t0 + hour).toISOString()}&to=${new Date(t0 + 2 * hour).toISOString()}`
    expect((await (await call(`/api/admin/logs/?${window}`, { token: admin.accessToken })).json()).items).toHaveLength(1)
    const first = await (await call(`/api/admin/logs/?limit=2&${until}`, { token: admin.accessToken })).json()
    expect(first.items).toHaveLength(2)
    const rest = await (await call(`/api/admin/logs/?limit=2&cursor=${first.nextCursor}&${until}`, { token: admin.accessToken })).json()
    expect(rest.items).toHaveLength(1)
  })

  test("a user's logs, newest first, come straight from an index, not from sorting all of that user's rows", async () => {
    const plan = await queryPlan(rt, "SELECT * FROM request_logs WHERE user_id = 'u' AND id < 100 ORDER BY id DESC LIMIT 50")
    expect(plan).toContain('request_logs_user_id')
    expect(plan).not.toMatch(/TEMP B-TREE|Sort/)
  })

  test('one log, and bad queries', async () => {
    // The newest of the rows inserted above (the requests this file makes are logged after them).
    const [latest] = (await (await call(`/api/admin/logs/?limit=1&to=${new Date(t0 + 3 * hour).toISOString()}`, { token: admin.accessToken })).json()).items
    const one = await call(`/api/admin/logs/${latest.id}/`, { token: admin.accessToken })
    expect(await one.json()).toMatchObject({ id: latest.id, path: '/v1/chat/completions', totalTokens: 42 })
    expect((await call('/api/admin/logs/999999/', { token: admin.accessToken })).status).toBe(404)
    expect((await call('/api/admin/logs/abc/', { token: admin.accessToken })).status).toBe(400)
    expect((await call('/api/admin/logs/?from=yesterday', { token: admin.accessToken })).status).toBe(400)
    expect((await call('/api/admin/logs/?from=2025-02-30T00:00:00Z', { token: admin.accessToken })).status).toBe(400)
    expect((await call('/api/admin/logs/?outcome=fine', { token: admin.accessToken })).status).toBe(400)
    expect((await call('/api/admin/logs/?limit=100000', { token: admin.accessToken })).status).toBe(400)
  })

  test('filters by client API: each API\'s paths (chat over HTTP and the socket); an unknown API is a 400', async () => {
    const at = t0 + 2.5 * hour
    await insertLog({ model: 'sd-turbo', path: '/v1/images/generations', createdAt: at })
    await insertLog({ model: 'llama3.2', path: '/v1/chat/ws', createdAt: at })
    const until = `to=${new Date(t0 + 3 * hour).toISOString()}`
    const get = async (query: string) => (await (await call(`/api/admin/logs/?${query}&${until}`, { token: admin.accessToken })).json()).items
    expect((await get('api=images')).map((l: any) => l.path)).toEqual(['/v1/images/generations'])
    expect((await get('api=chat')).map((l: any) => l.path)).toEqual(['/v1/chat/ws', '/v1/chat/completions', '/v1/chat/completions', '/v1/chat/completions'])
    expect(await get('api=messages')).toEqual([])
    const bad = await call('/api/admin/logs/?api=fax', { token: admin.accessToken })
    expect(bad.status).toBe(400)
    expect((await bad.json()).message).toContain('api')
  })

  test.each([
    ['/api/admin/users/?limit=0', 'limit must be an integer from 1 to 200'],
    ['/api/admin/logs/?cursor=0', 'cursor must be a positive integer'],
    ['/api/admin/logs/?status=42', 'status must be an HTTP status'],
    ['/api/admin/logs/abc/', 'id must be a positive integer'],
    ['/api/admin/feedback/?rating=0', 'rating must be an integer from 1 to 5'],
    ['/api/admin/threats/?limit=500', 'limit must be an integer from 1 to 200'],
    ['/api/admin/logs/?outcome=bad', "'outcome': must be one of ok, client_error"],
    ['/api/admin/threats/?type=nope', "'type': must be one of rate_limit, brute_force"],
    ['/api/admin/users/?active=maybe', 'active must be true or false'],
  ])('%s → 400 saying what is expected', async (path, message) => {
    const res = await call(path, { token: admin.accessToken })
    expect(res.status).toBe(400)
    expect((await res.json()).message).toContain(message)
  })
})

describe('feedback', () => {
  test('lists ratings and comments with the completion’s model', async () => {
    await insertLog({ userId: alice.userId, model: 'mistral', completionId: 'chatcmpl-fb1' })
    const now = Date.now()
    await rt.store.feedback.save({ completionId: 'chatcmpl-fb1', userId: alice.userId, rating: 4, comment: 'good answer', now })
    const page = await (await call('/api/admin/feedback/', { token: admin.accessToken })).json()
    expect(page.total).toBe(1)
    expect(page.items[0]).toMatchObject({ completionId: 'chatcmpl-fb1', rating: 4, comment: 'good answer', model: 'mistral', userEmail: 'alice@example.com' })
    expect((await (await call('/api/admin/feedback/?rating=5', { token: admin.accessToken })).json()).total).toBe(0)
    expect((await call('/api/admin/feedback/?rating=6', { token: admin.accessToken })).status).toBe(400)
  })
})

describe('admin API logging', () => {
  test('a refused non-admin is still attributed to its user in the request log', async () => {
    await call('/api/admin/users/', { token: alice.accessToken, headers: { 'x-request-id': 'refused-alice' } })
    await settle(rt)
    const [latest] = await rt.store.admin.listLogs({ userId: alice.userId, limit: 1 })
    expect(latest).toMatchObject({ requestId: 'refused-alice', userId: alice.userId, status: 403 })
  })
})
