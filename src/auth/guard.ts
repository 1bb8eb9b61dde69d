// The one guard every feature uses: `{ auth: true }` requires a signed-in principal
// (JWT access token or API key), `{ auth: 'admin' }` also requires the admin role.
import { Elysia } from 'elysia'
import { clientAddress } from '../http/client-address'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { factsOf } from '../telemetry/facts'
import { accessTokens } from './jwt'
import { API_KEY_PREFIX, principalForApiKey, principalForSession, type Principal, type Role } from './principal'

const invalid = () => new HttpError(401, 'JWT token is invalid or expired', { code: 'invalid_token' })

/** An expired token is ordinary; a token that fails for any other reason is forged or tampered. */
function expiredOnly(token: string): boolean {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: unknown }
    return typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()
  } catch {
    return false
  }
}

export const authGuard = (rt: Runtime) =>
  new Elysia({ name: 'auth-guard' })
    .use(accessTokens(rt.secretKey, rt.config.accessTokenMinutes))
    .macro({
      auth(required: true | Role) {
        return {
          async resolve({ headers, accessToken, request, server }) {
            const suspect = (detail: string) => {
              const address = clientAddress(request, server, rt.config.trustProxy)
              rt.threats.observe({ type: 'invalid_token', key: address ?? 'unknown', address, detail })
            }
            const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')
            if (!match)
              throw new HttpError(401, 'An Authorization header with a Bearer token (JWT or API key) is required', {
                code: 'missing_token',
              })
            const token = match[1]!
            let principal: Principal | undefined
            if (token.startsWith(API_KEY_PREFIX)) {
              principal = await principalForApiKey(rt.db, token)
              if (!principal) {
                suspect('an unknown, expired or revoked API key was presented')
                throw new HttpError(401, 'The API key is invalid, expired or revoked', { code: 'invalid_api_key' })
              }
            } else {
              const claims = await accessToken.verify(token, { algorithms: ['HS256'] })
              if (!claims || claims.typ !== 'access') {
                if (!expiredOnly(token)) suspect('a forged or tampered access token was presented')
                throw invalid()
              }
              principal = await principalForSession(rt.db, claims.sub, claims.sid)
              if (!principal) throw invalid()
            }
            if (required === 'admin' && principal.role !== 'admin')
              throw new HttpError(403, 'This endpoint requires the admin role', { code: 'forbidden' })
            const facts = factsOf(request)
            facts.userId = principal.userId
            facts.apiKeyId = principal.apiKeyId
            facts.sessionId = principal.sessionId
            return { principal }
          },
        }
      },
    })
