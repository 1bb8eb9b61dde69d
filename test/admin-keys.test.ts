// Users' API keys for admins: GET /api/admin/keys lists every user's keys (or one user's),
// revoked ones included, never a secret; DELETE /api/admin/keys/{id} revokes any of them, at
// once, audited as api_key.revoked with the admin as the actor. Runs on SQLite and PostgreSQL.
import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { seedUser } from './support/users'

const { rt, call, close } = await testApp()
afterAll(close)

const admin = await seedUser(rt, { role: 'admin', email: 'root@example.com' })
const alice = await seedUser(rt, { email: 'alice@example.com' })
const bob = await seedUser(rt, { email: 'bob@example.com' })

type Key = { id: string; userId: string; userEmail: string; name: string; prefix: string; scopes: string[] | null; models: string[] | null; fullPower: boolean; createdAt: string; lastUsedAt: string | null; expiresAt: string | null; revokedAt: string | null }

const list = async (query = ''): Promise<{ items: Key[]; nextCursor: string | null }> => {
  const res = await call(`/api/admin/keys/${query}`, { token: admin.accessToken })
  expect(res.status).toBe(200)
  return res.json()
}

const made = await (
  await call('/api/keys/', { method: 'POST', json: { name: 'alice <b>tool</b>', models: ['llama3*'], expiresAt: new Date(Date.now() + 86_400_000).toISOString() }, token: alice.accessToken })
).json()

describe('listing', () => {
  test("every user's keys, newest first, with their user, scopes, models and times; no secret", async () => {
    const { items } = await list()
    expect(items.map((key) => key.userEmail).sort()).toEqual(['alice@example.com', 'alice@example.com', 'bob@example.com', 'root@example.com'])
    expect(items[0]).toMatchObject({
      id: made.id, userId: alice.userId, name: 'alice <b>tool</b>', prefix: made.prefix, scopes: ['inference', 'read'], models: ['llama3*'],
      fullPower: false, expiresAt: made.expiresAt, revokedAt: null, lastUsedAt: null,
    })
    // The seeded keys were made as before scopes: full power.
    expect(items.find((key) => key.id === bob.apiKeyId)).toMatchObject({ fullPower: true, scopes: null })
    const body = JSON.stringify(items)
    for (const secret of [made.key, alice.apiKey, bob.apiKey]) expect(body).not.toContain(secret)
  })

  test('filtered by user, and paged', async () => {
    expect((await list(`?userId=${alice.userId}`)).items.map((key) => key.id)).toEqual([made.id, alice.apiKeyId])
    expect((await list(`?userId=${Bun.randomUUIDv7()}`)).items).toEqual([])
    const first = await list('?limit=3')
    expect(first.items).toHaveLength(3)
    const rest = await list(`?limit=3&cursor=${first.nextCursor}`)
    expect(rest.items).toHaveLength(1)
    expect(rest.nextCursor).toBeNull()
    expect(new Set([...first.items, ...rest.items].map((key) => key.id)).size).toBe(4)
  })

  test('bad filters: 400 naming the field', async () => {
    for (const [query, field] of [['?userId=a%20b', 'userId'], ['?cursor=%3Cx%3E', 'cursor'], ['?limit=0', 'limit']]) {
      const res = await call(`/api/admin/keys/${query}`, { token: admin.accessToken })
      expect(res.status).toBe(400)
      expect(await res.text()).toContain(field!)
    }
  })
})

describe('revoking a user’s key', () => {
  test('stops it at once (even just used), keeps it listed as revoked, audited with the admin as actor', async () => {
    expect((await call('/api/auth/me/', { token: made.key })).status).toBe(200)
    const res = await call(`/api/admin/keys/${made.id}/`, { method: 'DELETE', token: admin.accessToken, headers: { 'x-request-id': 'admin-revokes' } })
    expect(res.status).toBe(200)
    const revoked = (await res.json()) as Key
    const { revokedAt } = revoked
    expect(Date.parse(revokedAt!)).toBeGreaterThan(Date.now() - 60_000)
    expect(revoked).toMatchObject({ id: made.id, userId: alice.userId })
    expect((await call('/api/auth/me/', { token: made.key })).status).toBe(401)
    // Alice's other key and session still work; her own list no longer shows the key.
    expect((await call('/api/auth/me/', { token: alice.apiKey })).status).toBe(200)
    const own = await (await call('/api/keys/', { token: alice.accessToken })).json()
    expect(own.data.map((key: { id: string }) => key.id)).toEqual([alice.apiKeyId])
    expect((await list(`?userId=${alice.userId}`)).items.find((key) => key.id === made.id)?.revokedAt).toBe(revokedAt)

    const audit = await (await call('/api/admin/audit/?action=api_key.revoked', { token: admin.accessToken })).json()
    expect(audit.items).toEqual([
      expect.objectContaining({
        actorUserId: admin.userId, targetType: 'api_key', targetId: made.id, requestId: 'admin-revokes',
        before: expect.objectContaining({ userId: alice.userId, name: 'alice <b>tool</b>', revoked: false }), after: { revoked: true },
      }),
    ])
  })

  test('again: 409; unknown: 404; bad id: 400; nothing more recorded', async () => {
    expect((await call(`/api/admin/keys/${made.id}/`, { method: 'DELETE', token: admin.accessToken })).status).toBe(409)
    expect((await call(`/api/admin/keys/${Bun.randomUUIDv7()}/`, { method: 'DELETE', token: admin.accessToken })).status).toBe(404)
    expect((await call(`/api/admin/keys/${'k'.repeat(101)}/`, { method: 'DELETE', token: admin.accessToken })).status).toBe(400)
    const audit = await (await call('/api/admin/audit/?action=api_key.revoked', { token: admin.accessToken })).json()
    expect(audit.items).toHaveLength(1)
  })

  test('admins only', async () => {
    for (const [method, path] of [['GET', '/api/admin/keys/'], ['DELETE', `/api/admin/keys/${bob.apiKeyId}/`]] as const) {
      expect((await call(path, { method })).status).toBe(401)
      expect((await call(path, { method, token: alice.accessToken })).status).toBe(403)
    }
    expect((await call('/api/auth/me/', { token: bob.apiKey })).status).toBe(200)
  })
})
