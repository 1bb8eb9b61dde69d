// Scoped API keys (issue 18, deliverable 1), through HTTP: what a key may do is its scopes —
// inference (/v1), read (its user's own data), manage (keys and account), admin (admin accounts
// only, never implied) — and the models it may use; keys made before scopes existed keep every
// power and are shown as full-power keys. A refusal is a 403 naming the missing scope or the
// model, in the envelope of the path.
import { afterAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { settle } from './support/log'
import { seedUser } from './support/users'

const fake = await startFakeOllama()
const { rt, app, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url })
const server = listen(app)
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})

const user = await seedUser(rt)
const admin = await seedUser(rt, { role: 'admin' })
const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] }

/** A new key of the token's user, as the keys API makes it. */
async function mint(token: string, body: Record<string, unknown> = {}) {
  const res = await call('/api/keys/', { method: 'POST', json: { name: 'scoped', ...body }, token })
  return { status: res.status, body: (await res.json()) as any }
}

describe('a new key: inference and read unless asked', () => {
  test('it chats and reads its user\'s own data, but neither mints keys, lists them nor changes the account', async () => {
    const { body: key } = await mint(user.accessToken)
    expect(key).toMatchObject({ scopes: ['inference', 'read'], models: null, fullPower: false })
    expect((await call('/v1/chat/completions', { method: 'POST', json: hello, token: key.key })).status).toBe(200)
    expect((await call('/api/auth/me/', { token: key.key })).status).toBe(200)
    expect((await call('/api/conversations/', { token: key.key })).status).toBe(200)
    for (const [method, path] of [['POST', '/api/keys/'], ['GET', '/api/keys/'], ['DELETE', `/api/keys/${key.id}/`]] as const) {
      const res = await call(path, { method, json: method === 'POST' ? { name: 'x' } : undefined, token: key.key })
      expect(res.status).toBe(403)
      expect((await res.json()).message).toContain('`manage`')
    }
  })

  test('a key without inference is refused on /v1 in OpenAI\'s envelope, naming the scope', async () => {
    const { body: key } = await mint(user.accessToken, { scopes: ['read'] })
    const res = await call('/v1/chat/completions', { method: 'POST', json: hello, token: key.key })
    expect(res.status).toBe(403)
    expect((await res.json()).error).toMatchObject({ code: 'missing_scope', message: expect.stringContaining('`inference`') })
  })
})

describe('manage and admin', () => {
  test('a key with manage mints keys, but only with scopes it holds itself', async () => {
    const { body: manager } = await mint(user.accessToken, { scopes: ['manage'] })
    expect((await mint(manager.key, { scopes: ['manage'] })).status).toBe(201)
    const wider = await mint(manager.key, { scopes: ['manage', 'inference'] })
    expect(wider.status).toBe(403)
    expect(wider.body.message).toContain('`inference`')
  })

  test('an admin\'s key without the admin scope sees its own user\'s dashboard, not everyone\'s', async () => {
    const other = await seedUser(rt)
    expect((await call('/v1/chat/completions', { method: 'POST', json: hello, token: other.apiKey })).status).toBe(200)
    await settle(rt)
    // The admin never chatted: only a view of everyone's traffic has a model in it.
    const modelsSeenBy = async (token: string) =>
      (await (await call('/api/dashboard/?range=24h', { token })).json()).topModels.map((model: { name: string }) => model.name)
    const { body: readKey } = await mint(admin.accessToken, { scopes: ['read'] })
    const { body: adminKey } = await mint(admin.accessToken, { scopes: ['read', 'admin'] })
    expect(await modelsSeenBy(admin.accessToken)).toContain('llama3.2')
    expect(await modelsSeenBy(adminKey.key)).toContain('llama3.2')
    expect(await modelsSeenBy(readKey.key)).toEqual([])
  })

  test('admin only on an admin account, and never implied: an admin\'s key without it does not reach the admin routes', async () => {
    const refused = await mint(user.accessToken, { scopes: ['admin'] })
    expect(refused.status).toBe(403)
    expect(refused.body.message).toContain('`admin`')

    const { body: plain } = await mint(admin.accessToken, { scopes: ['inference', 'read', 'manage'] })
    const res = await call('/api/admin/users/', { token: plain.key })
    expect(res.status).toBe(403)
    expect((await res.json()).message).toContain('`admin`')

    const { body: adminKey } = await mint(admin.accessToken, { scopes: ['admin'] })
    expect((await call('/api/admin/users/', { token: adminKey.key })).status).toBe(200)
  })
})

describe('allowed models', () => {
  test('names and globs: a model allowed (its bare name too) is served; another is a 403 naming the field, not the value', async () => {
    const { body: key } = await mint(user.accessToken, { models: ['llama3*', 'llava:7b'] })
    const openai = new OpenAI({ apiKey: key.key, baseURL: `${server.url}/v1`, maxRetries: 0 })
    expect((await openai.chat.completions.create(hello as never)).choices[0]).toBeDefined()
    expect((await openai.chat.completions.create({ ...hello, model: 'llava:7b' } as never)).choices[0]).toBeDefined()
    const refused = await openai.chat.completions.create({ ...hello, model: 'qwen3-secret-model' } as never).catch((error) => error)
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect(refused.code).toBe('model_not_allowed')
    expect(refused.param).toBe('model')
    expect(JSON.stringify(refused.error)).not.toContain('qwen3-secret-model')
    expect(fake.chats.map((chat) => chat.body.model)).not.toContain('qwen3-secret-model')
  })

  test('a limited key mints only keys as limited: its models among its own, its expiry no later', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
    const { body: maker } = await mint(user.accessToken, { scopes: ['inference', 'manage'], models: ['llama3*'], expiresAt })
    const { status, body: child } = await mint(maker.key, { scopes: ['inference'] })
    expect(status).toBe(201)
    expect(child).toMatchObject({ models: ['llama3*'], expiresAt })
    const wider = await mint(maker.key, { scopes: ['inference'], models: ['qwen*'] })
    expect(wider).toMatchObject({ status: 403, body: { message: expect.stringContaining('models') } })
    const later = await mint(maker.key, { scopes: ['inference'], expiresAt: new Date(Date.now() + 7_200_000).toISOString() })
    expect(later.status).toBe(403)
  })

  test('bad scopes and models are a 400 naming the field', async () => {
    for (const [body, field] of [
      [{ scopes: ['everything'] }, 'scopes'],
      [{ scopes: [] }, 'scopes'],
      [{ scopes: ['read', 'read'] }, 'scopes'],
      [{ models: [] }, 'models'],
      [{ models: ['x'.repeat(201)] }, 'models'],
      [{ models: 'llama3.2' }, 'models'],
    ] as const) {
      const res = await mint(user.accessToken, body)
      expect(res.status).toBe(400)
      expect(JSON.stringify(res.body)).toContain(field)
    }
  })
})

describe('keys made before scopes', () => {
  test('keep every power of their user and are listed as full-power keys', async () => {
    // seedUser's key is stored as such a key (no scopes).
    expect((await call('/api/admin/users/', { token: admin.apiKey })).status).toBe(200)
    expect((await mint(user.apiKey, { scopes: ['inference', 'read', 'manage'] })).status).toBe(201)
    const listed = (await (await call('/api/keys/', { token: user.accessToken })).json()).data
    expect(listed.find((key: any) => key.id === user.apiKeyId)).toMatchObject({ fullPower: true, scopes: null })
  })
})
