// Email/password accounts through HTTP: register, login, refresh rotation with reuse
// detection, logout and me, with every bad input.
import { afterAll, describe, expect, test } from 'bun:test'
import { sha256 } from '../src/auth/crypto'
import { expireRefreshTokens, sessionsOf, setActiveOnly } from './support/accounts'
import { testApp } from './support/app'

const { rt, call, close } = await testApp()
afterAll(close)

type Pair = { accessToken: string; refreshToken: string; expiresIn: number; user: Record<string, unknown> }

const post = (path: string, json: unknown, token?: string) => call(path, { method: 'POST', json, token })
const register = async (email: string, password = 'correct horse', name?: string) => {
  const res = await post('/api/auth/register/', { email, password, name })
  expect(res.status).toBe(201)
  return (await res.json()) as Pair
}
const login = (email: string, password: string) => post('/api/auth/login/', { email, password })
const refresh = (refreshToken: string) => post('/api/auth/refresh/', { refreshToken })
const me = (token: string) => call('/api/auth/me/', { token })

const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

describe('register', () => {
  test('creates the account and signs in: tokens plus the camelCase user', async () => {
    const pair = await register('  Ada@Example.COM ', 'analytical engine', 'Ada Lovelace')
    expect(pair).toEqual({
      accessToken: expect.stringMatching(/^ey[\w-]+\.[\w-]+\.[\w-]+$/),
      refreshToken: expect.any(String),
      expiresIn: 3600,
      user: {
        id: expect.any(String),
        email: 'ada@example.com',
        name: 'Ada Lovelace',
        avatarUrl: null,
        role: 'user',
        provider: 'email',
        createdAt: iso,
        lastLoginAt: iso,
      },
    })
    const res = await me(pair.accessToken)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(pair.user)
  })

  test('stores the password as argon2id and fills the session row', async () => {
    const pair = await call('/api/auth/register', {
      method: 'POST',
      json: { email: 'hash@example.com', password: 'secret password' },
      headers: { 'user-agent': 'TestAgent/1.0' },
    }).then((res) => res.json() as Promise<Pair>)
    const user = await rt.store.accounts.findUserById(pair.user.id as string)
    expect(user!.passwordHash).toStartWith('$argon2id$')
    expect(user!.passwordHash).not.toContain('secret password')
    expect(await sessionsOf(rt, pair.user.id as string)).toMatchObject([{ provider: 'email', userAgent: 'TestAgent/1.0' }])
    // only the hash is kept
    expect(await rt.store.accounts.findRefreshToken(pair.refreshToken)).toBeUndefined()
    expect(await rt.store.accounts.findRefreshToken(sha256(pair.refreshToken))).toBeDefined()
  })

  test('a duplicate email, in any case or spacing → 409', async () => {
    await register('dup@example.com')
    const res = await post('/api/auth/register/', { email: ' DUP@example.com', password: 'another password' })
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ error: 'Conflict', message: 'An account with this email already exists' })
  })

  test('a password under 8 characters → 400 naming the rule', async () => {
    const res = await post('/api/auth/register/', { email: 'weak@example.com', password: 'short12' })
    expect(res.status).toBe(400)
    expect((await res.json()).message).toBe("Invalid body field 'password': must be at least 8 characters")
  })

  test.each([
    [{ password: 'long enough' }, 'email'],
    [{ email: 'x@example.com' }, 'password'],
    [{ email: 'not-an-email', password: 'long enough' }, 'email'],
    [{ email: 'a@b', password: 'long enough' }, 'email'],
    [{ email: 42, password: 'long enough' }, 'email'],
    [{ email: 'n@example.com', password: 'long enough', name: 7 }, 'name'],
    [{ email: 'n@example.com', password: 'x'.repeat(2000) }, 'password'],
  ])('bad body %j → 400 naming %s', async (body, field) => {
    const res = await post('/api/auth/register/', body)
    expect(res.status).toBe(400)
    const json = await res.json()
    expect(json.error).toBe('Validation error')
    expect(json.message).toContain(`'${field}'`)
  })

  test('malformed JSON → 400', async () => {
    const res = await call('/api/auth/register/', { method: 'POST', body: '{"email":', headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(400)
    expect((await res.json()).message).toContain('not valid JSON')
  })

  test('ALLOW_REGISTRATION=false closes registration but not sign-in', async () => {
    const closed = await testApp({ ALLOW_REGISTRATION: 'false' })
    try {
      const res = await closed.call('/api/auth/register/', { method: 'POST', json: { email: 'c@example.com', password: 'long enough' } })
      expect(res.status).toBe(403)
      expect((await res.json()).message).toContain('Registration is closed')
    } finally {
      await closed.close()
    }
  })
})

describe('login', () => {
  test('signs in with the normalised email and records lastLoginAt', async () => {
    const first = await register('grace@example.com', 'cobol rules')
    const res = await login('  GRACE@example.com', 'cobol rules')
    expect(res.status).toBe(200)
    const pair = (await res.json()) as Pair
    expect(pair.user.id).toBe(first.user.id)
    expect(Date.parse(pair.user.lastLoginAt as string)).toBeGreaterThanOrEqual(Date.parse(first.user.lastLoginAt as string))
    expect((await me(pair.accessToken)).status).toBe(200)
    // each sign-in is its own session
    expect(await sessionsOf(rt, pair.user.id as string)).toHaveLength(2)
  })

  test('wrong password and unknown email get the same 401', async () => {
    await register('same@example.com', 'right password')
    const wrong = await login('same@example.com', 'wrong password')
    const unknown = await login('nobody@example.com', 'wrong password')
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    const a = await wrong.json()
    const b = await unknown.json()
    expect(a.message).toBe('Invalid email or password')
    expect(b.message).toBe(a.message)
    expect(b.error).toBe('Authentication failed')
  })

  test('an unknown email costs as much as a wrong password (a dummy hash is checked)', async () => {
    await register('timing@example.com', 'right password')
    const median = async (email: string) => {
      const times: number[] = []
      for (let i = 0; i < 5; i++) {
        const started = performance.now()
        expect((await login(email, 'wrong password')).status).toBe(401)
        times.push(performance.now() - started)
      }
      return times.sort((x, y) => x - y)[2]!
    }
    await median('nobody-warmup@example.com')
    const known = await median('timing@example.com')
    const unknown = await median('nobody-timing@example.com')
    // Without the dummy hash an unknown email answers ~100× faster; allow a noisy machine's spread.
    expect(unknown / known).toBeGreaterThan(0.5)
    expect(unknown / known).toBeLessThan(3)
  }, 30_000)

  test('a deactivated account cannot sign in', async () => {
    const pair = await register('gone@example.com', 'long enough')
    await setActiveOnly(rt, pair.user.id as string, false)
    const res = await login('gone@example.com', 'long enough')
    expect(res.status).toBe(401)
    expect((await res.json()).message).toBe('Invalid email or password')
  })

  test('missing or mistyped fields → 400 naming them', async () => {
    for (const [body, field] of [
      [{ email: 'a@example.com' }, 'password'],
      [{ password: 'x' }, 'email'],
      [{ email: ['a'], password: 'x' }, 'email'],
    ] as const) {
      const res = await post('/api/auth/login/', body)
      expect(res.status).toBe(400)
      expect((await res.json()).message).toContain(`'${field}'`)
    }
  })
})

describe('refresh', () => {
  test('rotates: a new pair each time, the new access token works, same session', async () => {
    const pair = await register('rotate@example.com')
    const res = await refresh(pair.refreshToken)
    expect(res.status).toBe(200)
    const next = (await res.json()) as Pair
    expect(next.refreshToken).not.toBe(pair.refreshToken)
    expect(next.accessToken).not.toBe(pair.accessToken)
    expect(next.user).toMatchObject({ id: pair.user.id, email: 'rotate@example.com' })
    expect((await me(next.accessToken)).status).toBe(200)
    const third = (await (await refresh(next.refreshToken)).json()) as Pair
    expect((await me(third.accessToken)).status).toBe(200)
    expect(await sessionsOf(rt, pair.user.id as string)).toHaveLength(1)
  })

  test('reusing a spent refresh token revokes the whole family', async () => {
    const pair = await register('reuse@example.com')
    const next = (await (await refresh(pair.refreshToken)).json()) as Pair
    const replay = await refresh(pair.refreshToken)
    expect(replay.status).toBe(401)
    expect((await replay.json()).message).toContain('refresh token is invalid')
    // the thief's replay ends the legitimate holder's session too
    expect((await refresh(next.refreshToken)).status).toBe(401)
    expect((await me(next.accessToken)).status).toBe(401)
    expect((await me(pair.accessToken)).status).toBe(401)
    expect((await sessionsOf(rt, pair.user.id as string))[0]!.revokedAt).toBeNumber()
    // other sign-ins of the same user are untouched
    const other = (await (await login('reuse@example.com', 'correct horse')).json()) as Pair
    expect((await me(other.accessToken)).status).toBe(200)
  })

  test('two concurrent uses of one token: one wins, then the family is revoked', async () => {
    const pair = await register('race@example.com')
    const results = await Promise.all([refresh(pair.refreshToken), refresh(pair.refreshToken)])
    expect(results.map((res) => res.status).sort()).toEqual([200, 401])
  })

  test('an expired refresh token → 401', async () => {
    const pair = await register('expired-refresh@example.com')
    await expireRefreshTokens(rt, pair.user.id as string)
    expect((await refresh(pair.refreshToken)).status).toBe(401)
  })

  test('a deactivated user cannot refresh', async () => {
    const pair = await register('deact-refresh@example.com')
    await setActiveOnly(rt, pair.user.id as string, false)
    expect((await refresh(pair.refreshToken)).status).toBe(401)
  })

  test('a role change shows in the next access token', async () => {
    const pair = await register('promoted@example.com')
    await rt.store.admin.updateUser(pair.user.id as string, { role: 'admin' }, Date.now())
    const next = (await (await refresh(pair.refreshToken)).json()) as Pair
    expect(next.user.role).toBe('admin')
    const claims = JSON.parse(Buffer.from(next.accessToken.split('.')[1]!, 'base64url').toString())
    expect(claims.role).toBe('admin')
  })

  test('garbage, an access token, or no token → 401 / 400', async () => {
    const pair = await register('garbage@example.com')
    expect((await refresh('not-a-token')).status).toBe(401)
    expect((await refresh(pair.accessToken)).status).toBe(401)
    const missing = await post('/api/auth/refresh/', {})
    expect(missing.status).toBe(400)
    expect((await missing.json()).message).toContain("'refreshToken'")
    expect((await post('/api/auth/refresh/', { refreshToken: '' })).status).toBe(400)
  })
})

describe('logout', () => {
  test('revokes the session: its refresh and access tokens stop working', async () => {
    const pair = await register('bye@example.com')
    const res = await post('/api/auth/logout/', { refreshToken: pair.refreshToken })
    expect(res.status).toBe(204)
    expect((await refresh(pair.refreshToken)).status).toBe(401)
    expect((await me(pair.accessToken)).status).toBe(401)
  })

  test('is idempotent and reveals nothing about unknown tokens', async () => {
    expect((await post('/api/auth/logout', { refreshToken: 'never-issued' })).status).toBe(204)
    expect((await post('/api/auth/logout', {})).status).toBe(400)
  })
})

describe('me', () => {
  test('needs a token', async () => {
    const res = await call('/api/auth/me')
    expect(res.status).toBe(401)
    expect((await res.json()).error).toBe('Authentication failed')
  })

  test('works with an API key too', async () => {
    const pair = await register('keyed@example.com')
    const created = await (await post('/api/keys/', { name: 'cli' }, pair.accessToken)).json()
    const res = await me(created.key)
    expect(res.status).toBe(200)
    expect((await res.json()).email).toBe('keyed@example.com')
  })

  test('only GET is allowed', async () => {
    const res = await call('/api/auth/me/', { method: 'POST' })
    expect(res.status).toBe(405)
  })
})

test('health is public', async () => {
  const res = await call('/api/auth/health/')
  expect(res.status).toBe(200)
  expect((await res.json()).status).toBe('healthy')
})

describe('sessions', () => {
  test('a sign-in records the country of a trusted proxy header on its session', async () => {
    const proxied = await testApp({ TRUST_PROXY: 'true' })
    try {
      const res = await proxied.call('/api/auth/register/', {
        method: 'POST',
        json: { email: 'traveller@example.com', password: 'long enough' },
        headers: { 'cf-ipcountry': 'ID', 'x-forwarded-for': '203.0.113.5' },
      })
      expect(res.status).toBe(201)
      const { user } = await res.json()
      expect(await sessionsOf(proxied.rt, user.id)).toMatchObject([{ country: 'Indonesia (ID)', ip: '203.0.113.5' }])
    } finally {
      await proxied.close()
    }
  })
})
