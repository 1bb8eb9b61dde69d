// The one guard every feature uses: `{ auth: true }` requires a signed-in principal
// (JWT access token or API key), `{ auth: 'admin' }` also requires the admin role.
import { Elysia } from 'elysia'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { factsOf } from '../telemetry/facts'
import { accessTokens } from './jwt'
import { API_KEY_PREFIX, principalForApiKey, principalForSession, type Principal, type Role } from './principal'

const invalid = () => new HttpError(401, 'JWT token is invalid or expired', { code: 'invalid_token' })

export const authGuard = (rt: Runtime) =>
  new Elysia({ name: 'auth-guard' })
    .use(accessTokens(rt.secretKey, rt.config.accessTokenMinutes))
    .macro({
      auth(required: true | Role) {
        return {
          async resolve({ headers, accessToken, request }) {
            const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')
            if (!match)
              throw new HttpError(401, 'An Authorization header with a Bearer token (JWT or API key) is required', {
                code: 'missing_token',
              })
            const token = match[1]!
            let principal: Principal | undefined
            if (token.startsWith(API_KEY_PREFIX)) {
              principal = await principalForApiKey(rt.db, token)
              if (!principal) throw new HttpError(401, 'The API key is invalid, expired or revoked', { code: 'invalid_api_key' })
            } else {
              const claims = await accessToken.verify(token, { algorithms: ['HS256'] })
              if (!claims || claims.typ !== 'access') throw invalid()
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
