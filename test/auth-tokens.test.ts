// Access tokens that must be refused, and what must cut access at once: every forged,
// expired or misused token gets the seed's 401 body; deactivation stops tokens and keys.
import { afterAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { SignJWT } from 'jose'
import { authGuard } from '../src/auth/guard'
import { createSuperuser } from '../src/auth/accounts'
import { setActiveOnly } from './support/accounts'
import { TEST_SECRET, testApp } from './support/app'

const { rt, app, call, close } = await testApp()
app.use(new Elysia().use(authGuard(rt)).get('/api/test-admin-only', () => ({ ok: true }), { auth: 'admin' }))
afterAll(close)

const res = await call('/api/auth/register/', { method: 'POST', json: { email: 'tok@example.com', password: 'long enough' } })
const pair = (await res.json()) as { accessToken: string; refreshToken: string; user: { id: string } }
const [header, payload] = pair.accessToken.split('.') as [string, string]
const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const sign = (body: Record<string, unknown>, secret = TEST_SECRET, exp: number | string = '1h') =>
  new SignJWT(body).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(secret))

const refusedBody = { error: 'Authentication failed', message: 'JWT token is invalid or expired', timestamp: expect.any(String) }

describe('refused access tokens', () => {
  test('the genuine token works (the control)', async () => {
    expect((await call('/api/auth/me/', { token: pair.accessToken })).status).toBe(200)
    expect((await call('/api/auth/me/', { token: await sign({ ...claims, exp: undefined, iat: undefined }) })).status).toBe(200)
  })

  const cases: [string, () => Promise<string> | string][] = [
    ['expired', () => sign({ ...claims, exp: undefined }, TEST_SECRET, Math.floor(Date.now() / 1000) - 5)],
    ['tampered payload', () => `${header}.${b64({ ...claims, role: 'admin' })}.${pair.accessToken.split('.')[2]}`],
    ['tampered signature', () => `${pair.accessToken.slice(0, -4)}AAAA`],
    ['alg: none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`],
    ['alg: none with a signature', () => `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.${pair.accessToken.split('.')[2]}`],
    ['signed with another key', () => sign({ ...claims, exp: undefined }, 'another-secret-key-that-is-long-enough-xyz')],
    ['a refresh token used as access token', () => pair.refreshToken],
    ['not typ=access', () => sign({ ...claims, typ: 'refresh', exp: undefined })],
    ['for a session that does not exist', () => sign({ ...claims, sid: 'no-such-session', exp: undefined })],
    ['for another user than its session', () => sign({ ...claims, sub: 'someone-else', exp: undefined })],
    ['missing claims', () => sign({ sub: claims.sub })],
    ['not a JWT at all', () => 'hello'],
  ]
  test.each(cases)('%s → 401 with the seed body', async (_, make) => {
    const res = await call('/api/auth/me/', { token: await make() })
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual(refusedBody)
  })

  test('a malformed Authorization header → 401', async () => {
    for (const authorization of ['Basic abc', 'Bearer', `Token ${pair.accessToken}`, `Bearer ${pair.accessToken} extra`]) {
      const res = await call('/api/auth/me/', { headers: { authorization } })
      expect(res.status).toBe(401)
    }
  })
})

describe('roles', () => {
  test('a non-admin gets 403 in the seed format on an admin route; an admin passes', async () => {
    const res = await call('/api/test-admin-only', { token: pair.accessToken })
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ error: 'Forbidden', message: 'This endpoint requires the admin role' })
    await createSuperuser(rt, { email: 'root@example.com', password: 'root password' })
    const admin = await (await call('/api/auth/login/', { method: 'POST', json: { email: 'root@example.com', password: 'root password' } })).json()
    expect(admin.user.role).toBe('admin')
    expect((await call('/api/test-admin-only', { token: admin.accessToken })).status).toBe(200)
  })

  test('a demoted admin loses admin access at once, even with an old token', async () => {
    await createSuperuser(rt, { email: 'demoted@example.com', password: 'root password' })
    const admin = await (await call('/api/auth/login/', { method: 'POST', json: { email: 'demoted@example.com', password: 'root password' } })).json()
    await rt.store.admin.updateUser(admin.user.id, { role: 'user' }, Date.now())
    expect((await call('/api/test-admin-only', { token: admin.accessToken })).status).toBe(403)
  })
})

test('deactivation cuts the user’s access tokens, refresh tokens and API keys at once', async () => {
  const user = await (await call('/api/auth/register/', { method: 'POST', json: { email: 'cut@example.com', password: 'long enough' } })).json()
  const key = await (await call('/api/keys/', { method: 'POST', json: { name: 'k' }, token: user.accessToken })).json()
  expect((await call('/api/auth/me/', { token: user.accessToken })).status).toBe(200)
  expect((await call('/api/auth/me/', { token: key.key })).status).toBe(200)
  await setActiveOnly(rt, user.user.id, false)
  expect((await call('/api/auth/me/', { token: user.accessToken })).status).toBe(401)
  expect((await call('/api/auth/me/', { token: key.key })).status).toBe(401)
  expect((await call('/api/auth/refresh/', { method: 'POST', json: { refreshToken: user.refreshToken } })).status).toBe(401)
  await setActiveOnly(rt, user.user.id, true)
  expect((await call('/api/auth/me/', { token: key.key })).status).toBe(200)
})
