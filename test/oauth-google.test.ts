// Google sign-in: the start URL Google receives, and a full round trip with Google's
// endpoints pointed at the fake identity provider (createApp's test-only oauth option).
import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { browserSignIn, startFakeIdp } from './support/fake-idp'

const idp = await startFakeIdp({ clientId: 'google-client.apps.googleusercontent.com', clientSecret: 'google-secret' })
const env = {
  GOOGLE_OAUTH_CLIENT_ID: idp.clientId,
  GOOGLE_OAUTH_CLIENT_SECRET: idp.clientSecret,
  PUBLIC_URL: 'https://studio.example.com',
  FRONTEND_URL: 'https://app.example.com',
}
afterAll(() => idp.close())

describe('the real Google endpoints', () => {
  test('the start URL carries state, code_challenge_method=S256 and the configured redirect URI', async () => {
    const { call, close } = await testApp(env)
    try {
      const res = await call('/api/auth/oauth/google/')
      expect(res.status).toBe(302)
      const url = new URL(res.headers.get('location')!)
      expect(`${url.origin}${url.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth')
      expect(url.searchParams.get('state')).toMatch(/^[\w-]{43}$/)
      expect(url.searchParams.get('code_challenge_method')).toBe('S256')
      expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/)
      expect(url.searchParams.get('redirect_uri')).toBe('https://studio.example.com/api/auth/oauth/google/callback/')
      expect(url.searchParams.get('client_id')).toBe(idp.clientId)
      expect(url.searchParams.get('scope')).toBe('openid email profile')
      // PUBLIC_URL is https, so the cookies are Secure
      for (const cookie of res.headers.getSetCookie()) expect(cookie).toContain('Secure')
    } finally {
      await close()
    }
  })
})

describe('against the fake', () => {
  test('full round trip: tokens in the fragment work, PKCE was sent, the user is a Google user', async () => {
    const { call, close } = await testApp(env, { oauth: { google: idp.metadata } })
    try {
      idp.user = { sub: '1234567890', email: 'Grace@Gmail.com', emailVerified: true, name: 'Grace H', picture: 'https://lh3/g.png' }
      const { landing, location, fragment } = await browserSignIn(call, 'google')
      expect(landing.status).toBe(302)
      expect(`${location.origin}${location.pathname}`).toBe('https://app.example.com/auth/callback')
      const user = JSON.parse(fragment.get('user')!)
      expect(user).toMatchObject({ email: 'grace@gmail.com', name: 'Grace H', avatarUrl: 'https://lh3/g.png', provider: 'google' })
      const me = await call('/api/auth/me/', { token: fragment.get('accessToken')! })
      expect(me.status).toBe(200)
      expect((await me.json()).email).toBe('grace@gmail.com')
      expect(idp.authorizeRequests.at(-1)!.get('code_challenge_method')).toBe('S256')
      expect(idp.tokenRequests.at(-1)!.redirect_uri).toBe('https://studio.example.com/api/auth/oauth/google/callback/')
    } finally {
      await close()
    }
  })

  test('state mismatch and a replayed code fail', async () => {
    const { call, close } = await testApp(env, { oauth: { google: idp.metadata } })
    try {
      const first = await browserSignIn(call, 'google')
      expect(first.fragment.get('accessToken')).toBeString()
      const replay = await call(`${first.callback.pathname}${first.callback.search}`, { headers: { cookie: first.cookies } })
      expect(new URL(replay.headers.get('location')!).hash).toBe('#error=invalid_grant')
      const forged = new URL(first.callback)
      forged.searchParams.set('state', 'not-the-cookie-state')
      const mismatch = await call(`${forged.pathname}${forged.search}`, { headers: { cookie: first.cookies } })
      expect(new URL(mismatch.headers.get('location')!).hash).toBe('#error=state_mismatch')
    } finally {
      await close()
    }
  })
})
