// A real OAuth 2 / OpenID Connect identity provider on 127.0.0.1 for tests: discovery,
// authorize (consents at once as `idp.user`), token (checks client, redirect URI, PKCE and
// single-use codes), JWKS, userinfo, and GitHub's /user and /user/emails. Knobs make it fail.
import { createHash, randomBytes } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose'

export type FakeUser = {
  sub: string
  email?: string
  emailVerified?: boolean
  name?: string
  picture?: string
  login?: string
}

export type Knobs = {
  /** The authorize endpoint answers `error=<deny>` instead of a code. */
  deny?: string
  /** The token endpoint answers this status (with an empty body). */
  tokenStatus?: number
  /** Merged into the claims of the ID tokens it issues (e.g. a foreign `aud`, a past `exp`). */
  idTokenClaims?: JWTPayload
  /** ID tokens are signed with a key the JWKS does not publish. */
  foreignKey?: boolean
  /** The token response carries no ID token. */
  noIdToken?: boolean
  /** The discovery document answers this status. */
  discoveryStatus?: number
  /** ID tokens leave out the email (it is then only in userinfo). */
  emailOnlyInUserinfo?: boolean
}

type Grant = { user: FakeUser; redirectUri: string; challenge?: string; method?: string; nonce?: string; scope: string; used: boolean }

export type TokenRequest = Record<string, string> & { authorization: string }

const b64url = (bytes: Buffer) => bytes.toString('base64url')

export async function startFakeIdp(client = { clientId: 'studio-client', clientSecret: 'studio-secret' }) {
  const signing = await generateKeyPair('RS256', { extractable: true })
  const foreign = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(signing.publicKey)), kid: 'fake-key-1', alg: 'RS256', use: 'sig' }
  const grants = new Map<string, Grant>()
  const accessTokens = new Map<string, FakeUser>()
  const tokenRequests: TokenRequest[] = []
  const authorizeRequests: URLSearchParams[] = []

  let base = ''
  const idp = {
    ...client,
    get url() {
      return base
    },
    user: { sub: 'fake-sub-1', email: 'Pat@Example.com', emailVerified: true, name: 'Pat Doe', picture: 'https://img/pat.png', login: 'pat' } as FakeUser,
    knobs: {} as Knobs,
    tokenRequests,
    authorizeRequests,
    /** Endpoints in OIDC discovery names, for pointing the Google provider at this fake. */
    get metadata() {
      return {
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/jwks`,
        userinfo_endpoint: `${base}/userinfo`,
      }
    },
    get githubEndpoints() {
      return { authorization: `${base}/authorize`, token: `${base}/token`, api: base }
    },
    close: () => server.stop(true),
  }

  async function idToken(user: FakeUser, key: CryptoKey, kid: string, nonce: string | undefined) {
    const emailClaims = idp.knobs.emailOnlyInUserinfo ? {} : { email: user.email, email_verified: user.emailVerified }
    const now = Math.floor(Date.now() / 1000)
    // The nonce of the authorization request comes back in the ID token, as OpenID Connect requires.
    const claims = { iss: base, sub: user.sub, aud: client.clientId, iat: now, exp: now + 300, name: user.name, picture: user.picture, nonce }
    return new SignJWT({ ...claims, ...emailClaims, ...idp.knobs.idTokenClaims }).setProtectedHeader({ alg: 'RS256', kid }).sign(key)
  }

  const json = (body: unknown, status = 200) => Response.json(body, { status })
  const oauthError = (error: string, description: string) => json({ error, error_description: description }, 400)

  async function token(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text())
    const params = Object.fromEntries(form) as TokenRequest
    params.authorization = request.headers.get('authorization') ?? ''
    tokenRequests.push(params)
    if (idp.knobs.tokenStatus) return new Response(null, { status: idp.knobs.tokenStatus })
    const basic = params.authorization.startsWith('Basic ')
      ? Buffer.from(params.authorization.slice(6), 'base64').toString()
      : `${params.client_id}:${params.client_secret}`
    if (basic !== `${client.clientId}:${client.clientSecret}`) return json({ error: 'invalid_client' }, 401)
    if (params.grant_type !== 'authorization_code') return oauthError('unsupported_grant_type', 'only authorization_code')
    const grant = grants.get(params.code ?? '')
    if (!grant) return oauthError('invalid_grant', 'unknown code')
    if (grant.used) return oauthError('invalid_grant', 'code already used')
    grant.used = true
    if (params.redirect_uri !== grant.redirectUri) return oauthError('invalid_grant', 'redirect_uri differs')
    if (grant.challenge) {
      const verifier = params.code_verifier ?? ''
      const computed = grant.method === 'S256' ? b64url(createHash('sha256').update(verifier).digest()) : verifier
      if (computed !== grant.challenge) return oauthError('invalid_grant', 'PKCE verification failed')
    }
    const accessToken = b64url(randomBytes(24))
    accessTokens.set(accessToken, grant.user)
    const body: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: 3600, scope: grant.scope }
    if (grant.scope.split(' ').includes('openid') && !idp.knobs.noIdToken)
      body.id_token = await idToken(grant.user, idp.knobs.foreignKey ? foreign.privateKey : signing.privateKey, jwk.kid, grant.nonce)
    return json(body)
  }

  function authorize(url: URL): Response {
    const params = url.searchParams
    authorizeRequests.push(params)
    const redirectUri = params.get('redirect_uri')
    if (params.get('client_id') !== client.clientId || !redirectUri) return new Response('unknown client', { status: 400 })
    const back = new URL(redirectUri)
    back.searchParams.set('state', params.get('state') ?? '')
    if (idp.knobs.deny) back.searchParams.set('error', idp.knobs.deny)
    else {
      const code = b64url(randomBytes(16))
      grants.set(code, {
        user: { ...idp.user },
        redirectUri,
        challenge: params.get('code_challenge') ?? undefined,
        nonce: params.get('nonce') ?? undefined,
        method: params.get('code_challenge_method') ?? undefined,
        scope: params.get('scope') ?? '',
        used: false,
      })
      back.searchParams.set('code', code)
    }
    return new Response(null, { status: 302, headers: { location: back.toString() } })
  }

  function bearerUser(request: Request): FakeUser | undefined {
    return accessTokens.get(request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '')
  }

  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const url = new URL(request.url)
      switch (`${request.method} ${url.pathname}`) {
        case 'GET /.well-known/openid-configuration':
          if (idp.knobs.discoveryStatus) return new Response('down', { status: idp.knobs.discoveryStatus })
          return json({ ...idp.metadata, response_types_supported: ['code'], code_challenge_methods_supported: ['S256'] })
        case 'GET /authorize':
          return authorize(url)
        case 'POST /token':
          return token(request)
        case 'GET /jwks':
          return json({ keys: [jwk] })
        case 'GET /userinfo': {
          const user = bearerUser(request)
          if (!user) return new Response(null, { status: 401 })
          return json({ sub: user.sub, email: user.email, email_verified: user.emailVerified, name: user.name })
        }
        case 'GET /user': {
          const user = bearerUser(request)
          if (!user) return json({ message: 'Bad credentials' }, 401)
          return json({ id: Number(user.sub.replace(/\D/g, '')) || 4242, login: user.login, name: user.name ?? null, avatar_url: user.picture, email: null })
        }
        case 'GET /user/emails': {
          const user = bearerUser(request)
          if (!user) return json({ message: 'Bad credentials' }, 401)
          return json([
            { email: 'old@example.com', primary: false, verified: false },
            { email: user.email, primary: true, verified: user.emailVerified ?? false },
          ])
        }
      }
      return new Response('not found', { status: 404 })
    },
  })
  base = `http://127.0.0.1:${server.port}`
  return idp
}

export type FakeIdp = Awaited<ReturnType<typeof startFakeIdp>>

type Call = (path: string, init?: RequestInit & { json?: unknown; token?: string }) => Promise<Response>

/** What a browser does: start at the server, consent at the provider, come back with the cookies. */
export async function browserSignIn(call: Call, provider: string) {
  const start = await call(`/api/auth/oauth/${provider}/`)
  const cookies = start.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).join('; ')
  const consent = await fetch(start.headers.get('location')!, { redirect: 'manual' })
  const callback = new URL(consent.headers.get('location')!)
  const landing = await call(`${callback.pathname}${callback.search}`, { headers: { cookie: cookies } })
  return { start, cookies, callback, landing, ...landed(landing) }
}

/** Reads where a callback landed: the frontend URL and its fragment. */
export function landed(res: Response) {
  const location = new URL(res.headers.get('location') ?? 'http://invalid/')
  const fragment = new URLSearchParams(location.hash.slice(1))
  return { location, fragment }
}
