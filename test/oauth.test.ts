// Generic OpenID Connect sign-in, driven end to end against a fake identity provider on a
// real socket: discovery, PKCE, ID-token verification against its JWKS, account linking,
// and every failure landing on the frontend as #error=<code> (never a 500).
import { afterAll, beforeEach, describe, expect, spyOn, test } from 'bun:test'
import { auditPage } from '../src/audit/service'
import { createSuperuser } from '../src/auth/accounts'
import { userForProfile } from '../src/auth/oauth/link'
import { sessionsOf, setActiveOnly } from './support/accounts'
import { testApp } from './support/app'
import { browserSignIn, landed, startFakeIdp } from './support/fake-idp'

const idp = await startFakeIdp()
const env = { OIDC_ISSUER: idp.url, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, FRONTEND_URL: 'http://app.test' }
const { rt, call, close } = await testApp(env)
afterAll(async () => {
  await close()
  idp.close()
})

let n = 0
beforeEach(() => {
  idp.knobs = {}
  n += 1
  idp.user = { sub: `oidc-${n}`, email: `person${n}@example.com`, emailVerified: true, name: `Person ${n}`, picture: `https://img/${n}.png` }
})

describe('start', () => {
  test('302 to the issuer’s authorize endpoint with state, PKCE S256, a nonce and the redirect URI; each in an httpOnly cookie', async () => {
    const res = await call('/api/auth/oauth/oidc/')
    expect(res.status).toBe(302)
    const location = new URL(res.headers.get('location')!)
    expect(`${location.origin}${location.pathname}`).toBe(`${idp.url}/authorize`)
    const params = location.searchParams
    expect(params.get('response_type')).toBe('code')
    expect(params.get('client_id')).toBe(idp.clientId)
    expect(params.get('redirect_uri')).toBe('http://localhost:8000/api/auth/oauth/oidc/callback/')
    expect(params.get('scope')).toBe('openid email profile')
    expect(params.get('code_challenge_method')).toBe('S256')
    const cookies = res.headers.getSetCookie()
    const state = cookies.find((cookie) => cookie.startsWith('oidc_oauth_state='))!
    const verifier = cookies.find((cookie) => cookie.startsWith('oidc_code_verifier='))!
    const nonce = cookies.find((cookie) => cookie.startsWith('oidc_oauth_nonce='))!
    expect(state).toContain(`oidc_oauth_state=${params.get('state')};`)
    expect(nonce).toContain(`oidc_oauth_nonce=${params.get('nonce')};`)
    for (const cookie of [state, verifier, nonce]) {
      expect(cookie).toContain('HttpOnly')
      expect(cookie).toContain('Max-Age=600')
      expect(cookie).toContain('Path=/api/auth/oauth')
      expect(cookie).toContain('SameSite=Lax')
    }
    const verifierValue = verifier.split(';')[0]!.split('=')[1]!
    const challenge = new Bun.CryptoHasher('sha256').update(verifierValue).digest('base64url')
    expect(params.get('code_challenge')).toBe(challenge)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  test('each start has a fresh state and verifier', async () => {
    const a = new URL((await call('/api/auth/oauth/oidc/')).headers.get('location')!).searchParams
    const b = new URL((await call('/api/auth/oauth/oidc/')).headers.get('location')!).searchParams
    expect(a.get('state')).not.toBe(b.get('state'))
    expect(a.get('code_challenge')).not.toBe(b.get('code_challenge'))
  })
})

describe('round trip', () => {
  test('lands on FRONTEND_URL/auth/callback with working tokens in the fragment only', async () => {
    const { landing, location, fragment } = await browserSignIn(call, 'oidc')
    expect(landing.status).toBe(302)
    expect(`${location.origin}${location.pathname}`).toBe('http://app.test/auth/callback')
    expect(location.search).toBe('')
    const user = JSON.parse(fragment.get('user')!)
    expect(user).toMatchObject({
      email: `person${n}@example.com`,
      name: `Person ${n}`,
      avatarUrl: `https://img/${n}.png`,
      provider: 'oidc',
      role: 'user',
    })
    expect(fragment.get('expiresIn')).toBe('3600')
    const me = await call('/api/auth/me/', { token: fragment.get('accessToken')! })
    expect(me.status).toBe(200)
    expect((await me.json()).id).toBe(user.id)
    const refreshed = await call('/api/auth/refresh/', { method: 'POST', json: { refreshToken: fragment.get('refreshToken') } })
    expect(refreshed.status).toBe(200)
    // cookies are cleared on the way back
    for (const cookie of landing.headers.getSetCookie()) expect(cookie).toContain('Max-Age=0')
    // the token request carried the PKCE verifier and authenticated the client
    const sent = idp.tokenRequests.at(-1)!
    expect(sent.code_verifier).toBeString()
    expect(sent.authorization).toStartWith('Basic ')
    expect(await sessionsOf(rt, user.id)).toMatchObject([{ provider: 'oidc' }])
  })

  test('signing in again finds the same account through the linked identity', async () => {
    const first = JSON.parse((await browserSignIn(call, 'oidc')).fragment.get('user')!)
    idp.user = { ...idp.user, email: 'changed-address@example.com' }
    const second = JSON.parse((await browserSignIn(call, 'oidc')).fragment.get('user')!)
    expect(second.id).toBe(first.id)
  })

  test('a verified email that matches a self-registered password account claims it: its password, sessions and keys are revoked', async () => {
    // Anyone can register any address: here someone registered the provider user's address first.
    const credentials = { email: idp.user.email, password: 'long enough' }
    const registered = await (await call('/api/auth/register/', { method: 'POST', json: credentials })).json()
    const key = await (await call('/api/keys/', { method: 'POST', token: registered.accessToken, json: { name: 'planted' } })).json()
    const { fragment } = await browserSignIn(call, 'oidc')
    const user = JSON.parse(fragment.get('user')!)
    expect(user.id).toBe(registered.user.id)
    expect(user.provider).toBe('email')
    expect(user.name).toBe(idp.user.name) // an empty name is filled from the provider
    expect((await call('/api/auth/login/', { method: 'POST', json: credentials })).status).toBe(401)
    expect((await call('/api/auth/me/', { token: key.key })).status).toBe(401)
    expect((await call('/api/auth/refresh/', { method: 'POST', json: { refreshToken: registered.refreshToken } })).status).toBe(401)
    expect((await call('/api/auth/me/', { token: fragment.get('accessToken')! })).status).toBe(200)
  })

  test('a password sign-in still being checked when the account is claimed is refused', async () => {
    const credentials = { email: idp.user.email!, password: 'long enough' }
    expect((await call('/api/auth/register/', { method: 'POST', json: credentials })).status).toBe(201)
    // The password check is held until the account has been claimed: the sign-in read the
    // account before the claim, and its check ends after it (no race with the clock).
    const { promise: checking, resolve: checkStarted } = Promise.withResolvers<void>()
    const { promise: claimDone, resolve: release } = Promise.withResolvers<void>()
    const verify = Bun.password.verify
    const held = spyOn(Bun.password, 'verify').mockImplementation(async (...args: Parameters<typeof verify>) => {
      checkStarted()
      await claimDone
      return verify(...args)
    })
    try {
      const login = call('/api/auth/login/', { method: 'POST', json: credentials })
      await checking
      const claimed = await userForProfile(rt, 'oidc', { subject: idp.user.sub, email: credentials.email, emailVerified: true, name: null, avatarUrl: null })
      expect(claimed.passwordHash).toBeNull()
      release()
      expect((await login).status).toBe(401)
    } finally {
      held.mockRestore()
    }
  })

  test('an account whose address the operator vouched for (create-superuser) links and keeps its password', async () => {
    const credentials = { email: idp.user.email!, password: 'operator set this' }
    await createSuperuser(rt, credentials)
    const user = JSON.parse((await browserSignIn(call, 'oidc')).fragment.get('user')!)
    expect(user.role).toBe('admin')
    expect((await call('/api/auth/login/', { method: 'POST', json: credentials })).status).toBe(200)
  })

  test('an unverified email neither creates nor claims an account', async () => {
    idp.user = { ...idp.user, emailVerified: false }
    expect((await browserSignIn(call, 'oidc')).fragment.get('error')).toBe('email_not_verified')
    expect(await rt.store.accounts.findUserByEmail(idp.user.email!)).toBeUndefined()
  })

  test('an email only in userinfo is fetched from there', async () => {
    idp.knobs.emailOnlyInUserinfo = true
    const { fragment } = await browserSignIn(call, 'oidc')
    expect(JSON.parse(fragment.get('user')!).email).toBe(`person${n}@example.com`)
  })

  test('a deactivated account → #error=account_disabled', async () => {
    const { fragment } = await browserSignIn(call, 'oidc')
    await setActiveOnly(rt, JSON.parse(fragment.get('user')!).id, false)
    expect((await browserSignIn(call, 'oidc')).fragment.get('error')).toBe('account_disabled')
  })

  test('a deactivated self-registered account with the same email is neither claimed nor linked', async () => {
    const credentials = { email: idp.user.email!, password: 'long enough' }
    const registered = await (await call('/api/auth/register/', { method: 'POST', json: credentials })).json()
    await setActiveOnly(rt, registered.user.id, false)
    expect((await browserSignIn(call, 'oidc')).fragment.get('error')).toBe('account_disabled')
    expect((await rt.store.accounts.findUserById(registered.user.id))!.passwordHash).not.toBeNull()
    expect(await rt.store.accounts.findUserByIdentity('oidc', idp.user.sub)).toBeUndefined()
  })
})

describe('failures land on #error=<code>', () => {
  const errorOf = (res: Response) => {
    expect(res.status).toBe(302)
    const { location, fragment } = landed(res)
    expect(`${location.origin}${location.pathname}`).toBe('http://app.test/auth/callback')
    expect(fragment.get('accessToken')).toBeNull()
    return fragment.get('error')
  }

  test('state mismatch: a callback whose state is not the cookie’s', async () => {
    const { cookies, callback } = await (async () => {
      const start = await call('/api/auth/oauth/oidc/')
      const consent = await fetch(start.headers.get('location')!, { redirect: 'manual' })
      return { cookies: start.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), callback: new URL(consent.headers.get('location')!) }
    })()
    callback.searchParams.set('state', 'forged')
    expect(errorOf(await call(`${callback.pathname}${callback.search}`, { headers: { cookie: cookies } }))).toBe('state_mismatch')
    // Audited as a failed sign-in: no account, the provider and the reason.
    const failures = await auditPage(rt, { action: 'sign_in.failed', limit: 10 })
    expect(failures.some((entry) => entry.after?.provider === 'oidc' && entry.after?.reason === 'state_mismatch' && entry.targetId === null)).toBe(true)
  })

  test('state mismatch: no cookies (a login CSRF attempt)', async () => {
    const start = await call('/api/auth/oauth/oidc/')
    const consent = await fetch(start.headers.get('location')!, { redirect: 'manual' })
    const callback = new URL(consent.headers.get('location')!)
    expect(errorOf(await call(`${callback.pathname}${callback.search}`))).toBe('state_mismatch')
  })

  test('PKCE is checked: a different verifier fails at the token endpoint', async () => {
    const start = await call('/api/auth/oauth/oidc/')
    const cookies = start.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .map((c) => (c.startsWith('oidc_code_verifier=') ? 'oidc_code_verifier=someone-elses-verifier-0123456789abcdefghij' : c))
      .join('; ')
    const consent = await fetch(start.headers.get('location')!, { redirect: 'manual' })
    const callback = new URL(consent.headers.get('location')!)
    expect(errorOf(await call(`${callback.pathname}${callback.search}`, { headers: { cookie: cookies } }))).toBe('invalid_grant')
  })

  test('PKCE is checked: a missing verifier cookie fails', async () => {
    const start = await call('/api/auth/oauth/oidc/')
    const cookies = start.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => c!.startsWith('oidc_oauth_state')).join('; ')
    const consent = await fetch(start.headers.get('location')!, { redirect: 'manual' })
    const callback = new URL(consent.headers.get('location')!)
    expect(errorOf(await call(`${callback.pathname}${callback.search}`, { headers: { cookie: cookies } }))).toBe('state_mismatch')
  })

  test('the nonce is checked: an ID token made for another sign-in (a code injected with its own state) fails', async () => {
    // The attacker starts a sign-in of their own (their state cookie, their nonce) and swaps in a
    // code from the victim's sign-in: the ID token carries the victim's nonce.
    const victim = await call('/api/auth/oauth/oidc/')
    const victimNonce = new URL(victim.headers.get('location')!).searchParams.get('nonce')!
    expect(victimNonce.length).toBeGreaterThanOrEqual(32)
    idp.knobs = { idTokenClaims: { nonce: victimNonce } }
    expect(errorOf((await browserSignIn(call, 'oidc')).landing)).toBe('invalid_id_token')
  })

  test('the nonce is checked: a missing nonce cookie fails', async () => {
    const start = await call('/api/auth/oauth/oidc/')
    const cookies = start.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => !c!.startsWith('oidc_oauth_nonce')).join('; ')
    const consent = await fetch(start.headers.get('location')!, { redirect: 'manual' })
    const callback = new URL(consent.headers.get('location')!)
    expect(errorOf(await call(`${callback.pathname}${callback.search}`, { headers: { cookie: cookies } }))).toBe('state_mismatch')
  })

  test('a replayed code fails even with the original cookies', async () => {
    const first = await browserSignIn(call, 'oidc')
    expect(first.fragment.get('accessToken')).toBeString()
    const replay = await call(`${first.callback.pathname}${first.callback.search}`, { headers: { cookie: first.cookies } })
    expect(errorOf(replay)).toBe('invalid_grant')
  })

  test('denied consent passes on the provider’s code', async () => {
    idp.knobs.deny = 'access_denied'
    expect(errorOf((await browserSignIn(call, 'oidc')).landing)).toBe('access_denied')
  })

  test('a provider error that is not a plain word becomes provider_error', async () => {
    const res = await call('/api/auth/oauth/oidc/callback/?error=%3Cscript%3E&state=x')
    expect(errorOf(res)).toBe('provider_error')
  })

  test('no code → missing_code', async () => {
    const start = await call('/api/auth/oauth/oidc/')
    const state = new URL(start.headers.get('location')!).searchParams.get('state')
    const cookies = start.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
    expect(errorOf(await call(`/api/auth/oauth/oidc/callback/?state=${state}`, { headers: { cookie: cookies } }))).toBe('missing_code')
  })

  test.each([
    ['signed with a key the JWKS does not publish', { foreignKey: true }],
    ['issued to another client', { idTokenClaims: { aud: 'someone-else' } }],
    ['from another issuer', { idTokenClaims: { iss: 'https://evil.example' } }],
    ['expired', { idTokenClaims: { exp: Math.floor(Date.now() / 1000) - 600 } }],
  ])('an ID token %s → invalid_id_token', async (_, knobs) => {
    idp.knobs = knobs
    expect(errorOf((await browserSignIn(call, 'oidc')).landing)).toBe('invalid_id_token')
  })

  test('a token response without an ID token → token_exchange_failed', async () => {
    idp.knobs.noIdToken = true
    expect(errorOf((await browserSignIn(call, 'oidc')).landing)).toBe('token_exchange_failed')
  })

  test('the token endpoint failing → token_exchange_failed', async () => {
    idp.knobs.tokenStatus = 500
    expect(errorOf((await browserSignIn(call, 'oidc')).landing)).toBe('token_exchange_failed')
  })

  test('a wrong client secret → invalid_client', async () => {
    const other = await testApp({ ...env, OIDC_CLIENT_SECRET: 'wrong' })
    try {
      expect(errorOf((await browserSignIn(other.call, 'oidc')).landing)).toBe('invalid_client')
    } finally {
      await other.close()
    }
  })

  test('discovery down: the start lands on #error=provider_unavailable; it recovers once the issuer is back', async () => {
    const fresh = await testApp(env) // nothing cached yet
    try {
      idp.knobs.discoveryStatus = 503
      expect(errorOf(await fresh.call('/api/auth/oauth/oidc/'))).toBe('provider_unavailable')
      idp.knobs = {}
      expect((await fresh.call('/api/auth/oauth/oidc/')).status).toBe(302)
      expect(new URL((await fresh.call('/api/auth/oauth/oidc/')).headers.get('location')!).origin).toBe(idp.url)
    } finally {
      await fresh.close()
    }
  })

  test('an unreachable issuer → provider_unavailable', async () => {
    const dead = await testApp({ ...env, OIDC_ISSUER: 'http://127.0.0.1:9' })
    try {
      expect(errorOf(await dead.call('/api/auth/oauth/oidc/'))).toBe('provider_unavailable')
    } finally {
      await dead.close()
    }
  })

  test('ALLOW_REGISTRATION=false: no new accounts through OIDC → registration_closed', async () => {
    const closed = await testApp({ ...env, ALLOW_REGISTRATION: 'false' })
    try {
      expect(errorOf((await browserSignIn(closed.call, 'oidc')).landing)).toBe('registration_closed')
    } finally {
      await closed.close()
    }
  })
})

describe('unconfigured and unknown providers', () => {
  test('an unconfigured provider → 404 naming the settings it needs', async () => {
    const plain = await testApp()
    try {
      for (const [provider, settings] of [
        ['oidc', 'OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET'],
        ['google', 'GOOGLE_OAUTH_CLIENT_ID, GOOGLE_OAUTH_CLIENT_SECRET'],
        ['github', 'GITHUB_OAUTH_CLIENT_ID, GITHUB_OAUTH_CLIENT_SECRET'],
        ['apple', 'APPLE_OAUTH_CLIENT_ID, APPLE_OAUTH_TEAM_ID, APPLE_OAUTH_KEY_ID, APPLE_OAUTH_PRIVATE_KEY'],
      ]) {
        for (const path of [`/api/auth/oauth/${provider}/`, `/api/auth/oauth/${provider}/callback/?code=x&state=y`]) {
          const res = await plain.call(path)
          expect(res.status).toBe(404)
          const body = await res.json()
          expect(body.error).toBe('Not found')
          expect(body.message).toContain(settings)
        }
      }
    } finally {
      await plain.close()
    }
  })

  test('an unknown provider → 404 listing the known ones, without echoing the name sent', async () => {
    const res = await call('/api/auth/oauth/myspace/')
    expect(res.status).toBe(404)
    const { message } = await res.json()
    expect(message).toContain('No such sign-in provider; the server knows google')
    expect(message).not.toContain('myspace')
  })
})
