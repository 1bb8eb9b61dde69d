// API keys through HTTP: created with the secret shown once, listed without it, usable as
// a Bearer token everywhere, revocable by their owner only.
import { afterAll, describe, expect, test } from 'bun:test'
import { createApiKey, MAX_KEYS } from '../src/keys/service'
import { testApp } from './support/app'
import { expireKey, recordedLastUse, storedKeyHash } from './support/keys'
import { seedUser } from './support/users'

const { rt, call, close } = await testApp()
afterAll(close)

const signUp = async (email: string) => {
  const res = await call('/api/auth/register/', { method: 'POST', json: { email, password: 'long enough' } })
  return ((await res.json()) as { accessToken: string }).accessToken
}
const alice = await signUp('alice@example.com')
const bob = await signUp('bob@example.com')
const create = (token: string, json: unknown) => call('/api/keys/', { method: 'POST', json, token })
const list = async (token: string) => ((await (await call('/api/keys/', { token })).json()) as { data: Record<string, unknown>[] }).data

describe('create', () => {
  test('201 with the secret once, stored only as a hash', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString()
    const res = await create(alice, { name: 'laptop', expiresAt })
    expect(res.status).toBe(201)
    const key = await res.json()
    expect(key).toEqual({
      id: expect.any(String),
      name: 'laptop',
      prefix: key.key.slice(0, 14),
      key: expect.stringMatching(/^sk-studio-[\w-]{40,}$/),
      createdAt: expect.any(String),
      lastUsedAt: null,
      expiresAt,
      // New keys may call the models and read their user's own data, nothing more, unless asked.
      scopes: ['inference', 'read'],
      models: null,
      fullPower: false,
      rateLimits: null,
      tokensPerMinute: null,
    })
    expect(await storedKeyHash(rt, key.id)).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(await list(alice))).not.toContain(key.key)
  })

  test('works as a Bearer token, and records its last use', async () => {
    const { key, id } = await (await create(alice, { name: 'sdk' })).json()
    const res = await call('/api/auth/me/', { token: key })
    expect(res.status).toBe(200)
    expect((await res.json()).email).toBe('alice@example.com')
    // The use is recorded without holding up the request: once it is stored, the list shows it.
    expect(await recordedLastUse(rt, id)).toBeNumber()
    const listed = (await list(alice)).find((entry) => entry.id === id)!
    expect(listed.lastUsedAt).toBeString()
    // without `manage` it cannot mint another key (a leaked key cannot outlive its revocation)
    const refused = await create(key, { name: 'from a key' })
    expect(refused.status).toBe(403)
    expect((await refused.json()).message).toContain('manage')
  })

  test.each([
    [{}, 'name'],
    [{ name: '' }, 'name'],
    [{ name: '   ' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ name: 5 }, 'name'],
    [{ name: 'k', expiresAt: 'tomorrow' }, 'expiresAt'],
    [{ name: 'k', expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
    [{ name: 'k', expiresAt: 17 }, 'expiresAt'],
  ])('bad body %j → 400 naming %s', async (body, field) => {
    const res = await create(alice, body)
    expect(res.status).toBe(400)
    expect((await res.json()).message).toContain(`'${field}'`)
  })

  test('an impossible expiry date (February 30th) → 400 naming expiresAt', async () => {
    const res = await create(alice, { name: 'x', expiresAt: '2999-02-30T00:00:00Z' })
    expect(res.status).toBe(400)
    expect((await res.json()).message).toContain('expiresAt')
  })

  test(`at most ${MAX_KEYS} keys that are not revoked per user → 409; revoking one makes room`, async () => {
    const carol = await signUp('carol@example.com')
    const made: string[] = []
    for (let i = 0; i < MAX_KEYS; i++) made.push((await (await create(carol, { name: `k${i}` })).json()).id)
    const refused = await create(carol, { name: 'one too many' })
    expect(refused.status).toBe(409)
    expect((await refused.json()).message).toContain(`at most ${MAX_KEYS}`)
    expect((await call(`/api/keys/${made[0]}/`, { method: 'DELETE', token: carol })).status).toBe(204)
    expect((await create(carol, { name: 'now there is room' })).status).toBe(201)
    expect(await list(carol)).toHaveLength(MAX_KEYS)
  })

  test(`${MAX_KEYS + 10} creations at once for one user → exactly ${MAX_KEYS} made, the rest refused`, async () => {
    // Started together, every creation would see room if the limit were counted before the insert.
    const { userId, apiKeyId } = await seedUser(rt)
    expect(await rt.store.keys.revoke(userId, apiKeyId, Date.now())).toBe(true)
    const results = await Promise.allSettled(Array.from({ length: MAX_KEYS + 10 }, (_, i) => createApiKey(rt, { userId, role: 'user', email: '' }, { name: `k${i}` })))
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(MAX_KEYS)
    const refused = results.filter((result) => result.status === 'rejected')
    expect(refused).toHaveLength(10)
    for (const { reason } of refused) expect(reason).toMatchObject({ status: 409 })
    expect(await rt.store.keys.countLive(userId)).toBe(MAX_KEYS)
  })

  test('needs a signed-in user', async () => {
    expect((await call('/api/keys/', { method: 'POST', json: { name: 'x' } })).status).toBe(401)
    expect((await call('/api/keys/')).status).toBe(401)
    expect((await call('/api/keys/some-id/', { method: 'DELETE' })).status).toBe(401)
  })
})

describe('list and revoke', () => {
  test('a user sees only their own keys, newest first, without secrets', async () => {
    const a = await (await create(bob, { name: 'first' })).json()
    const b = await (await create(bob, { name: 'second' })).json()
    const keys = await list(bob)
    expect(keys.map((key) => key.id)).toEqual([b.id, a.id])
    expect(Object.keys(keys[0]!).sort()).toEqual(['createdAt', 'expiresAt', 'fullPower', 'id', 'lastUsedAt', 'models', 'name', 'prefix', 'rateLimits', 'scopes', 'tokensPerMinute'])
    expect((await list(alice)).some((key) => key.id === a.id)).toBe(false)
  })

  test('revoking: 204, the key stops working at once and leaves the list', async () => {
    const { id, key } = await (await create(bob, { name: 'temp' })).json()
    expect((await call('/api/auth/me', { token: key })).status).toBe(200)
    const res = await call(`/api/keys/${id}/`, { method: 'DELETE', token: bob })
    expect(res.status).toBe(204)
    const refused = await call('/api/auth/me', { token: key })
    expect(refused.status).toBe(401)
    expect((await refused.json()).message).toContain('API key is invalid')
    expect((await list(bob)).some((entry) => entry.id === id)).toBe(false)
    expect((await call(`/api/keys/${id}`, { method: 'DELETE', token: bob })).status).toBe(404)
  })

  test("another user's key, or an unknown id → 404, and the key keeps working", async () => {
    const { id, key } = await (await create(alice, { name: 'mine' })).json()
    const res = await call(`/api/keys/${id}/`, { method: 'DELETE', token: bob })
    expect(res.status).toBe(404)
    expect((await res.json()).error).toBe('Not found')
    expect((await call('/api/keys/nope/', { method: 'DELETE', token: bob })).status).toBe(404)
    expect((await call('/api/auth/me', { token: key })).status).toBe(200)
  })

  test('an expired key is refused but still listed', async () => {
    const { id, key } = await (await create(alice, { name: 'short-lived', expiresAt: new Date(Date.now() + 60_000).toISOString() })).json()
    await expireKey(rt, id)
    expect((await call('/api/auth/me', { token: key })).status).toBe(401)
    expect((await list(alice)).some((entry) => entry.id === id)).toBe(true)
  })

  test('an unknown or malformed key → 401', async () => {
    for (const token of ['sk-studio-', 'sk-studio-unknown', `sk-studio-${'a'.repeat(500)}`]) {
      expect((await call('/api/auth/me', { token })).status).toBe(401)
    }
  })
})
