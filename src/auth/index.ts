// The accounts feature: health, email/password sign-in, token refresh and logout, the
// signed-in user, and OAuth sign-in (in ./oauth).
import { Elysia, t } from 'elysia'
import { clientAddress } from '../http/client-address'
import { rateLimits } from '../ratelimit'
import type { Runtime } from '../runtime'
import { authenticate, canonicalEmail, register } from './accounts'
import { authGuard } from './guard'
import { Credentials, RefreshRequest, Registration, TokenPair, User, userView } from './model'
import { oauth, type OAuthOverrides } from './oauth'
import { endSession, refreshSession } from './sessions'
import { signIn } from './sign-in'
import { applyUnblocks } from '../threats/unblocks'
import { originOf, recordFailedSignIn } from '../audit/service'
import { HttpError } from '../http/errors'

const tags = ['auth']
const publicRoute = { tags, security: [] }

export const auth = (rt: Runtime, overrides: OAuthOverrides = {}) => {
  applyUnblocks(rt)
  return new Elysia({ name: 'auth', prefix: '/api/auth' })
    .use(authGuard(rt))
    .use(rateLimits(rt))
    .get('/health', () => ({ status: 'healthy' as const, timestamp: new Date().toISOString() }), {
      response: t.Object({ status: t.Literal('healthy'), timestamp: t.String({ format: 'date-time' }) }),
      detail: { summary: 'Health check', ...publicRoute },
    })
    .post(
      '/register',
      async (context) => {
        const user = await register(rt, context.body)
        context.set.status = 201
        return signIn(rt, context, user, 'email')
      },
      {
        body: Registration,
        response: { 201: TokenPair },
        rateLimit: 'auth',
        detail: { summary: 'Create an account with email and password, and sign in', ...publicRoute },
      },
    )
    .post(
      '/login',
      async (context) => {
        const address = clientAddress(context.request, context.server, rt.config.trustProxy)
        const user = await authenticate(rt, context.body, address).catch((error: unknown) => {
          // Wrong email or password (not a block, which the threat log records): an audit entry, the password never in it.
          if (error instanceof HttpError && error.status === 401) recordFailedSignIn(rt, originOf(rt, context), canonicalEmail(context.body.email))
          throw error
        })
        return signIn(rt, context, user, 'email')
      },
      {
        body: Credentials,
        rateLimit: 'auth',
        response: TokenPair,
        detail: { summary: 'Sign in with email and password', ...publicRoute },
      },
    )
    .post('/refresh', ({ body, accessToken }) => refreshSession(rt, (claims) => accessToken.sign(claims), body.refreshToken), {
      body: RefreshRequest,
      response: TokenPair,
      rateLimit: 'auth',
      detail: { summary: 'Exchange a refresh token for a new pair (the old one is spent)', ...publicRoute },
    })
    .post(
      '/logout',
      async ({ body, set }) => {
        await endSession(rt, body.refreshToken)
        set.status = 204
      },
      {
        body: RefreshRequest,
        detail: { summary: 'End the session of a refresh token; its access tokens stop working', ...publicRoute },
      },
    )
    .get('/me', async ({ principal }) => userView((await rt.store.accounts.findUserById(principal.userId))!), {
      auth: true,
      response: User,
      detail: { summary: 'The signed-in user', tags },
    })
    .use(oauth(rt, overrides))
}
