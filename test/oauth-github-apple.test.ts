// GitHub sign-in (state, no PKCE, profile from its REST API) against the fake, and Apple's
// form_post flow: its start URL, SameSite=None cookies, and the POST callback's failures.
import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { browserSignIn, landed, startFakeIdp } from './support/fake-idp'

const idp = await startFakeIdp({ clientId: 'gh-client', clientSecret: 'gh-secret' })
afterAll(() => idp.close())

describe('GitHub', () => {
  const env = { GITHUB_OAUTH_CLIENT_ID: idp.clientId, GITHUB_OAUTH_CLIENT_SECRET: idp.clientSecret }

  test('the start URL goes to GitHub with state, scopes, PKCE (S256) and the redirect URI', async () => {
    const { call, close } = await testApp(env)
    try {
      const res = await call('/api/auth/oauth/github')
      const url = new URL(res.headers.get('location')!)
      expect(`${url.origin}${url.pathname}`).toBe('https://github.com/login/oauth/authorize')
      expect(url.searchParams.get('state')).toBeString()
      expect(url.searchParams.get('scope')).toBe('read:user user:email')
      expect(url.searchParams.get('redirect_uri')).toBe('http://localhost:8000/api/auth/oauth/github/callback/')
      expect(url.searchParams.get('code_challenge_method')).toBe('S256')
      const cookies = Object.fromEntries(res.headers.getSetCookie().map((cookie) => cookie.split(';')[0]!.split('=') as [string, string]))
      expect(Object.keys(cookies).sort()).toEqual(['github_code_verifier', 'github_oauth_state'])
      expect(url.searchParams.get('code_challenge')).toBe(new Bun.CryptoHasher('sha256').update(cookies.github_code_verifier!).digest('base64url'))
    } finally {
      await close()
    }
  })

  test('round trip: the primary verified email from /user/emails, name and avatar from /user', async () => {
    const { call, close } = await testApp(env, { oauth: { github: idp.githubEndpoints } })
    try {
      idp.user = { sub: '583231', login: 'octocat', name: 'The Octocat', email: 'octo@github.example', emailVerified: true, picture: 'https://avatars/o.png' }
      const { fragment } = await browserSignIn(call, 'github')
      const user = JSON.parse(fragment.get('user')!)
      expect(user).toMatchObject({ email: 'octo@github.example', name: 'The Octocat', avatarUrl: 'https://avatars/o.png', provider: 'github' })
      expect((await call('/api/auth/me', { token: fragment.get('accessToken')! })).status).toBe(200)
      expect(idp.tokenRequests.at(-1)!.code_verifier).toBeString() // checked by the fake against the challenge
    } finally {
      await close()
    }
  })

  test('no verified email → email_not_verified; the token endpoint down → token_exchange_failed', async () => {
    const { call, close } = await testApp(env, { oauth: { github: idp.githubEndpoints } })
    try {
      idp.user = { sub: '77', login: 'ghost', email: 'ghost@example.com', emailVerified: false }
      expect((await browserSignIn(call, 'github')).fragment.get('error')).toBe('email_not_verified')
      idp.knobs.tokenStatus = 502
      expect((await browserSignIn(call, 'github')).fragment.get('error')).toBe('token_exchange_failed')
    } finally {
      idp.knobs = {}
      await close()
    }
  })
})

// Apple's settings: a real P-256 key in PKCS#8 PEM, written with `\n` escapes as in an env file.
const appleKey = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])
const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', appleKey.privateKey)).toString('base64')
const appleEnv = {
  APPLE_OAUTH_CLIENT_ID: 'com.example.studio',
  APPLE_OAUTH_TEAM_ID: 'TEAM123',
  APPLE_OAUTH_KEY_ID: 'KEY123',
  APPLE_OAUTH_PRIVATE_KEY: `-----BEGIN PRIVATE KEY-----\\n${der.match(/.{1,64}/g)!.join('\\n')}\\n-----END PRIVATE KEY-----`,
}
const apple = await testApp(appleEnv)
afterAll(apple.close)

describe('Apple', () => {
  const call = apple.call

  test('start: form_post response mode, and SameSite=None; Secure cookies for the cross-site POST', async () => {
    const res = await call('/api/auth/oauth/apple/')
    expect(res.status).toBe(302)
    const url = new URL(res.headers.get('location')!)
    expect(`${url.origin}${url.pathname}`).toBe('https://appleid.apple.com/auth/authorize')
    expect(url.searchParams.get('response_mode')).toBe('form_post')
    expect(url.searchParams.get('scope')).toBe('name email')
    expect(url.searchParams.get('redirect_uri')).toBe('http://localhost:8000/api/auth/oauth/apple/callback/')
    const [cookie] = res.headers.getSetCookie()
    expect(cookie).toStartWith(`apple_oauth_state=${url.searchParams.get('state')};`)
    expect(cookie).toContain('SameSite=None')
    expect(cookie).toContain('Secure')
    expect(cookie).toContain('HttpOnly')
  })

  const post = (body: string, cookie?: string) =>
    call('/api/auth/oauth/apple/callback/', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    })

  test('the POST callback checks state', async () => {
    const start = await call('/api/auth/oauth/apple/')
    const cookie = start.headers.getSetCookie()[0]!.split(';')[0]!
    const res = await post('code=abc&state=forged', cookie)
    expect(res.status).toBe(302)
    expect(landed(res).fragment.get('error')).toBe('state_mismatch')
    expect(res.headers.getSetCookie()[0]).toContain('Max-Age=0')
  })

  test('the POST callback passes on a cancelled sign-in', async () => {
    const res = await post('error=user_cancelled_authorize&state=x')
    expect(landed(res).fragment.get('error')).toBe('user_cancelled_authorize')
  })

  test('a POST callback with an odd body never fails with a 500', async () => {
    for (const body of ['', '%%%', 'state=a&state=b&code=c', '{"code":1}']) {
      const res = await post(body)
      expect(res.status).toBe(302)
      expect(landed(res).fragment.get('error')).toBeString()
    }
  })

  test('a malformed private key stops start-up naming the setting', async () => {
    await expect(testApp({ ...appleEnv, APPLE_OAUTH_PRIVATE_KEY: 'not a key' })).rejects.toThrow('APPLE_OAUTH_PRIVATE_KEY')
  })
})
