// The shared guard, exercised through routes that use it the way every feature does.
import { afterAll, describe, expect, test } from 'bun:test'
import { t } from 'elysia'
import { authGuard } from '../src/auth/guard'
import { setActiveOnly } from './support/accounts'
import { testApp } from './support/app'
import { logRows, settle } from './support/log'
import { seedUser } from './support/users'

const { rt, app, call, close } = await testApp()
app
  .use(authGuard(rt))
  .get('/api/whoami', ({ principal }) => principal, { auth: true })
  .get('/api/admin-only', () => ({ ok: true }), { auth: 'admin' })
  .get('/v1/whoami', ({ principal }) => principal, { auth: true })
  .post('/api/echo-guarded', ({ body }) => body, { auth: true, body: t.Object({ n: t.Integer() }) })
afterAll(close)

const user = await seedUser(rt)
const admin = await seedUser(rt, { role: 'admin' })

describe('auth guard', () => {
  test('a JWT and an API key both identify the user', async () => {
    for (const token of [user.accessToken, user.apiKey]) {
      const res = await call('/api/whoami', { token })
      expect(res.status).toBe(200)
      expect((await res.json()).userId).toBe(user.userId)
    }
  })

  test('no token → 401 in the seed format; under /v1 in the OpenAI format', async () => {
    const api = await call('/api/whoami')
    expect(api.status).toBe(401)
    expect((await api.json()).error).toBe('Authentication failed')
    const v1 = await call('/v1/whoami')
    expect(v1.status).toBe(401)
    expect((await v1.json()).error.type).toBe('authentication_error')
  })

  test('a tampered JWT → 401 "JWT token is invalid or expired"', async () => {
    const [h, p, s] = user.accessToken.split('.')
    const tampered = `${h}.${p!.slice(0, -2)}xx.${s}`
    const res = await call('/api/whoami', { token: tampered })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: 'Authentication failed', message: 'JWT token is invalid or expired' })
  })

  test('an unknown API key → 401', async () => {
    expect((await call('/api/whoami', { token: 'sk-studio-nope' })).status).toBe(401)
  })

  test('the wrong role → 403 in the seed format', async () => {
    const res = await call('/api/admin-only', { token: user.accessToken })
    expect(res.status).toBe(403)
    expect((await res.json()).error).toBe('Forbidden')
    expect((await call('/api/admin-only', { token: admin.apiKey })).status).toBe(200)
  })

  test('a deactivated user is refused at once', async () => {
    const victim = await seedUser(rt)
    await setActiveOnly(rt, victim.userId, false)
    expect((await call('/api/whoami', { token: victim.accessToken })).status).toBe(401)
    expect((await call('/api/whoami', { token: victim.apiKey })).status).toBe(401)
  })

  test('the caller is checked before its input: no token and a bad body → 401, not 400', async () => {
    const res = await call('/api/echo-guarded', { method: 'POST', json: { n: 'not a number' } })
    expect(res.status).toBe(401)
  })

  test('a signed-in caller’s invalid input is a 400 logged under its user', async () => {
    const res = await call('/api/echo-guarded', { method: 'POST', json: { n: 'x' }, token: user.apiKey, headers: { 'x-request-id': 'bad-input-1' } })
    expect(res.status).toBe(400)
    await settle(rt)
    const rows = await logRows(rt, (row) => row.requestId === 'bad-input-1')
    expect(rows.map((row) => ({ userId: row.userId, status: row.status }))).toEqual([{ userId: user.userId, status: 400 }])
  })
})
