// Deleting a user through the admin API (DELETE /api/admin/users/{id}): the account and what
// belongs to it go (sessions, API keys, feedback, conversations, stored responses), its tokens
// and keys fail at once even when just used (the principal cache forgets them), the request log
// and the audit trail keep their history, and the act is audited. Never oneself, never the last
// active admin, even when two admins delete each other at once. Runs on SQLite and PostgreSQL.
import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { insertRequestLog, logRows } from './support/log'
import { seedUser } from './support/users'

const { rt, call, close } = await testApp()
afterAll(close)

const admin = await seedUser(rt, { role: 'admin', email: 'root@example.com' })
const victim = await seedUser(rt, { email: 'leaving@example.com', name: 'Leaving Soon' })
const bystander = await seedUser(rt, { email: 'staying@example.com' })

const message = (role: string, content: string) => ({
  role, content, parts: null, toolCalls: null, toolCallId: null, reasoning: null, promptTokens: null,
  completionTokens: null, completionId: null, finishReason: null, state: 'complete' as const,
})

type Entry = { action: string; actorUserId: string | null; targetType: string | null; targetId: string | null; requestId: string | null; before: Record<string, unknown> | null }

const auditOf = async (query: string): Promise<Entry[]> => (await (await call(`/api/admin/audit/${query}`, { token: admin.accessToken })).json()).items

const remove = (id: string, token = admin.accessToken, headers: Record<string, string> = {}) =>
  call(`/api/admin/users/${encodeURIComponent(id)}/`, { method: 'DELETE', token, headers })

describe('deleting a user', () => {
  test('removes the account and what belongs to it; its tokens and keys fail at once; history stays; audited', async () => {
    // What the user owns: a scoped key made through the API, a conversation with a message, a stored response, a rating.
    const scoped = await (await call('/api/keys/', { method: 'POST', json: { name: 'script' }, token: victim.accessToken })).json()
    const conversation = await (await call('/api/conversations/', { method: 'POST', json: { title: 'plans' }, token: victim.accessToken })).json()
    await rt.store.conversations.append(conversation.id, [message('user', 'a secret plan')], Date.now())
    await rt.store.responses.save({ id: 'resp_leaving', userId: victim.userId, previousResponseId: null, response: { id: 'resp_leaving' }, inputItems: [], createdAt: Date.now() })
    await rt.store.feedback.save({ completionId: 'chatcmpl-leaving', userId: victim.userId, rating: 5, comment: null, now: Date.now() })
    await insertRequestLog(rt, { userId: victim.userId, completionId: 'chatcmpl-leaving' })
    await rt.store.budgets.set({ holder: { userId: victim.userId }, period: 'day', maxCost: 5, maxTokens: null }, Date.now())
    await rt.store.budgets.set({ holder: { apiKeyId: victim.apiKeyId }, period: 'total', maxCost: null, maxTokens: 100 }, Date.now())
    // Each credential just used: its holder sits in the principal cache.
    for (const token of [victim.accessToken, victim.apiKey, scoped.key]) expect((await call('/api/auth/me/', { token })).status).toBe(200)

    const res = await remove(victim.userId, admin.accessToken, { 'x-request-id': 'delete-leaving' })
    expect(res.status).toBe(204)

    for (const token of [victim.accessToken, victim.apiKey, scoped.key]) expect((await call('/api/auth/me/', { token })).status).toBe(401)
    expect(await rt.store.accounts.findUserById(victim.userId)).toBeUndefined()
    expect(await rt.store.conversations.get(victim.userId, conversation.id)).toBeUndefined()
    expect(await rt.store.conversations.messages(conversation.id, 10)).toEqual([])
    expect(await rt.store.responses.get(victim.userId, 'resp_leaving')).toBeUndefined()
    const ratings = (await rt.store.admin.listFeedback({ limit: 50 })).items
    expect(ratings.filter((rating) => rating.userId === victim.userId)).toEqual([])
    expect(await rt.store.admin.listKeys({ userId: victim.userId, limit: 50 })).toEqual([])
    expect(await rt.store.budgets.applying(victim.userId, victim.apiKeyId)).toEqual([])
    const users = await (await call('/api/admin/users/', { token: admin.accessToken })).json()
    expect(users.items.map((user: { email: string }) => user.email).sort()).toEqual(['root@example.com', 'staying@example.com'])

    // The request log keeps the row with the user's id; no email names it any more.
    const logged = await logRows(rt, (row) => row.userId === victim.userId)
    expect(logged).toHaveLength(1)
    expect(logged[0]!.userEmail).toBeNull()

    const [entry] = (await auditOf('?action=user.deleted')).filter((e) => e.requestId === 'delete-leaving')
    expect(entry).toMatchObject({
      actorUserId: admin.userId,
      targetType: 'user',
      targetId: victim.userId,
      before: { email: 'leaving@example.com', name: 'Leaving Soon', role: 'user', isActive: true, provider: 'email' },
    })
    // Earlier entries about the user stay too (the key it made).
    expect((await auditOf(`?targetType=api_key&targetId=${scoped.id}`)).map((e) => e.action)).toContain('api_key.created')

    // The bystander is untouched.
    expect((await call('/api/auth/me/', { token: bystander.apiKey })).status).toBe(200)
    // Gone: a second delete is a 404 and records nothing more.
    expect((await remove(victim.userId)).status).toBe(404)
    expect((await auditOf('?action=user.deleted')).filter((e) => e.targetId === victim.userId)).toHaveLength(1)
  })

  test('bad ids: 400 naming the field, without echoing it; unknown: 404', async () => {
    for (const id of ['x'.repeat(101), 'no spaces', '<script>']) {
      const res = await remove(id)
      expect(res.status).toBe(400)
      const text = await res.text()
      expect(text).toContain('id must be a user id')
      expect(text).not.toContain('<script>')
    }
    const unknown = await remove(Bun.randomUUIDv7())
    expect(unknown.status).toBe(404)
    expect((await unknown.json()).message).toBe('No user has this id')
  })

  test('admins only: 401 without a token, 403 for a user, 403 for an admin key without the admin scope', async () => {
    expect((await call(`/api/admin/users/${bystander.userId}/`, { method: 'DELETE' })).status).toBe(401)
    expect((await remove(bystander.userId, bystander.accessToken)).status).toBe(403)
    const limited = await (await call('/api/keys/', { method: 'POST', json: { name: 'no admin', scopes: ['inference', 'read', 'manage'] }, token: admin.accessToken })).json()
    expect((await remove(bystander.userId, limited.key)).status).toBe(403)
    expect(await rt.store.accounts.findUserById(bystander.userId)).toBeDefined()
  })

  test('an admin cannot delete themselves: 409, nothing recorded', async () => {
    const res = await remove(admin.userId)
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ message: 'Admins cannot delete themselves' })
    expect(await rt.store.accounts.findUserById(admin.userId)).toBeDefined()
    expect((await auditOf('?action=user.deleted')).filter((e) => e.targetId === admin.userId)).toEqual([])
  })

  test('the last active admin is never deleted (the store decides, in one transaction)', async () => {
    expect(await rt.store.accounts.deleteUser(admin.userId)).toEqual({ outcome: 'last_admin' })
    expect(await rt.store.accounts.findUserById(admin.userId)).toBeDefined()
    // An admin who is deactivated is not one of the active admins: deleting them is fine.
    const dormant = await seedUser(rt, { role: 'admin' })
    expect((await call(`/api/admin/users/${dormant.userId}/`, { method: 'PATCH', json: { isActive: false }, token: admin.accessToken })).status).toBe(200)
    expect((await remove(dormant.userId)).status).toBe(204)
  })

  test('two admins deleting each other at once: one goes, the other stays, refused with a clear 4xx', async () => {
    const other = await seedUser(rt, { role: 'admin', email: 'other-admin@example.com' })
    // Both just used: both principals cached, so both requests reach the deletion together.
    for (const token of [admin.accessToken, other.accessToken]) expect((await call('/api/auth/me/', { token })).status).toBe(200)
    const [first, second] = await Promise.all([remove(other.userId, admin.accessToken), remove(admin.userId, other.accessToken)])
    const statuses = [first.status, second.status]
    expect(statuses.filter((status) => status === 204)).toHaveLength(1)
    const refused = first.status === 204 ? second : first
    // Refused by the store (the last active admin) or, when the other deletion finished first, by the guard (the caller is gone).
    expect([401, 409]).toContain(refused.status)
    if (refused.status === 409) expect((await refused.json()).message).toBe('The last active admin cannot be deleted')
    const admins = (await rt.store.admin.listUsers({ role: 'admin', active: true, limit: 10 })).items
    expect(admins).toHaveLength(1)
  })
})
