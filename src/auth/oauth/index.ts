// OAuth sign-in routes: the start (302 to the provider, with state, PKCE verifier and OIDC
// nonce in short-lived httpOnly cookies) and the callback (GET, or POST for Apple's form_post), which
// lands on FRONTEND_URL/auth/callback with tokens or `#error=<code>` in the fragment.
import type { Server } from 'bun'
import { Elysia, t, type Cookie } from 'elysia'
import { originOf, recordAudit } from '../../audit/service'
import { isBusy } from '../../db/busy'
import { HttpError } from '../../http/errors'
import type { Runtime } from '../../runtime'
import { randomToken, sameHash } from '../crypto'
import { authGuard } from '../guard'
import type { AccessClaims } from '../jwt'
import { signIn } from '../sign-in'
import { userForProfile } from './link'
import { isProviderName, OAuthFailure, providerCode, providerNames, requiredSettings, type Provider, type ProviderName } from './provider'
import { createProviders, type OAuthOverrides } from './providers'

/** The one path that takes a form body: Apple calls back with a cross-site POST (`form_post`). */
export const formPostPaths = /^\/api\/auth\/oauth\/[^/]+\/callback\/?$/

export type { OAuthOverrides }

const titles: Record<ProviderName, string> = { google: 'Google', github: 'GitHub', apple: 'Apple', oidc: 'OIDC' }
const COOKIE_PATH = '/api/auth/oauth'
const COOKIE_SECONDS = 600

type CallbackContext = {
  params: { provider: string }
  query: Record<string, unknown>
  body: unknown
  cookie: Record<string, Cookie<unknown>>
  request: Request
  server: Server<unknown> | null
  accessToken: { sign(claims: AccessClaims): Promise<string> }
  set: { headers: Record<string, unknown> }
}

const field = (source: unknown, name: string) => {
  const value = (source as Record<string, unknown> | null)?.[name]
  return typeof value === 'string' ? value : undefined
}

export const oauth = (rt: Runtime, overrides: OAuthOverrides) => {
  const providers = createProviders(rt.config, overrides)
  const landing = `${rt.config.frontendUrl}/auth/callback`
  const httpsOnly = rt.config.publicUrl.startsWith('https:')

  function configured(name: string): { name: ProviderName; provider: Provider } {
    if (!isProviderName(name))
      throw new HttpError(404, `No such sign-in provider; the server knows ${providerNames.join(', ')}`)
    const provider = providers[name]
    if (!provider)
      throw new HttpError(404, `${titles[name]} sign-in is not configured; set ${requiredSettings[name].join(', ')}`, {
        code: 'provider_not_configured',
      })
    return { name, provider }
  }

  // Apple calls back with a cross-site POST, which only carries SameSite=None (hence Secure) cookies.
  const cookieOptions = (provider: Provider) => ({
    httpOnly: true,
    path: COOKIE_PATH,
    sameSite: provider.formPost ? ('none' as const) : ('lax' as const),
    secure: provider.formPost || httpsOnly,
  })
  const cookieNames = (name: ProviderName) => ({
    state: `${name}_oauth_state`,
    verifier: `${name}_code_verifier`,
    nonce: `${name}_oauth_nonce`,
  })

  function land(set: CallbackContext['set'], fragment: Record<string, string>): Response {
    set.headers['cache-control'] = 'no-store'
    set.headers['referrer-policy'] = 'no-referrer'
    return new Response(null, { status: 302, headers: { location: `${landing}#${new URLSearchParams(fragment)}` } })
  }

  function failed(set: CallbackContext['set'], name: ProviderName, error: unknown): Response {
    // Another process holding the database's lock is not our fault: OAuth's own code for "try again".
    const busy = isBusy(error)
    const failure = error instanceof OAuthFailure ? error : new OAuthFailure(busy ? 'temporarily_unavailable' : 'server_error')
    if (!(error instanceof OAuthFailure) && !busy) console.error(`[oauth] ${name} sign-in failed:`, error)
    else if (failure.detail) console.warn(`[oauth] ${name} sign-in failed (${failure.code}): ${failure.detail}`)
    return land(set, { error: failure.code })
  }

  async function callback(context: CallbackContext): Promise<Response> {
    const { name, provider } = configured(context.params.provider)
    const kept: Record<string, string | undefined> = {}
    for (const [role, cookieName] of Object.entries(cookieNames(name))) {
      const cookie = context.cookie[cookieName]!
      if (cookie.value === undefined) continue
      kept[role] = field(cookie, 'value')
      cookie.set({ value: '', maxAge: 0, ...cookieOptions(provider) })
    }
    const fields = { ...context.query, ...(context.body as object) }
    try {
      const error = field(fields, 'error')
      if (error) throw new OAuthFailure(providerCode(error, 'provider_error'))
      const state = field(fields, 'state')
      if (!kept.state || !state || !sameHash(state, kept.state) || (provider.pkce && !kept.verifier) || (provider.nonce && !kept.nonce))
        throw new OAuthFailure('state_mismatch')
      const code = field(fields, 'code')
      if (!code) throw new OAuthFailure('missing_code')
      const profile = await provider.profile(code, { codeVerifier: kept.verifier, nonce: kept.nonce }, { user: field(fields, 'user') })
      const user = await userForProfile(rt, name, profile)
      const tokens = await signIn(rt, context, user, name)
      return land(context.set, {
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresIn: String(tokens.expiresIn),
        user: JSON.stringify(tokens.user),
      })
    } catch (error) {
      const response = failed(context.set, name, error)
      // Whose sign-in failed is unknown (no verified profile): the provider and the reason say what happened.
      const reason = new URL(response.headers.get('location') ?? '', 'http://x').hash.replace(/^#error=/, '')
      recordAudit(rt, originOf(rt, context), { action: 'sign_in.failed', targetType: null, targetId: null, after: { provider: name, reason } })
      return response
    }
  }

  const params = t.Object({ provider: t.String({ description: providerNames.join(', ') }) })
  const tags = ['auth']
  const callbackDetail = (method: string) => ({
    summary: `OAuth callback (${method}); lands on FRONTEND_URL/auth/callback#accessToken=…&refreshToken=…&user=… or #error=<code>`,
    tags,
    security: [],
  })

  return new Elysia({ name: 'auth-oauth', prefix: '/oauth' })
    .use(authGuard(rt))
    .get(
      '/:provider',
      async ({ params, cookie, set }) => {
        const { name, provider } = configured(params.provider)
        const state = randomToken()
        const verifier = randomToken()
        const nonce = randomToken()
        let url: URL
        try {
          url = await provider.authorizationUrl(state, verifier, nonce)
        } catch (error) {
          return failed(set, name, error)
        }
        const names = cookieNames(name)
        const options = { ...cookieOptions(provider), maxAge: COOKIE_SECONDS }
        cookie[names.state]!.set({ value: state, ...options })
        if (provider.pkce) cookie[names.verifier]!.set({ value: verifier, ...options })
        if (provider.nonce) cookie[names.nonce]!.set({ value: nonce, ...options })
        set.headers['cache-control'] = 'no-store'
        return new Response(null, { status: 302, headers: { location: url.toString() } })
      },
      { params, detail: { summary: 'Start signing in with an identity provider (302 to it)', tags, security: [] } },
    )
    .get('/:provider/callback', callback, { params, detail: callbackDetail('GET') })
    .post('/:provider/callback', callback, { params, parse: 'urlencoded', detail: callbackDetail('POST, form_post') })
}
