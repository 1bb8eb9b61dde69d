// The one guard every feature uses: `{ auth: true }` requires a signed-in principal
// (JWT access token or API key, as `Authorization: Bearer`, or alone in `x-api-key` as
// Anthropic's clients send it), `{ auth: 'admin' }` also requires the admin role, and
// `{ auth: 'optional' }` lets anonymous callers through but refuses bad credentials. An API key
// also needs the scope of what it asks for (./scopes.ts), and a model it is allowed.
import { Elysia } from 'elysia'
import { addressKey, clientAddress } from '../http/client-address'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { factsOf } from '../telemetry/facts'
import { threatMonitorOf } from '../threats'
import { accessTokens } from './jwt'
import { inChildSpan } from '../observability/tracing'
import { API_KEY_PREFIX, mayAct, principalForApiKey, principalForSession, type Principal, type Role } from './principal'
import { modelAllowed, scopeNeeded } from './scopes'
import type { RequestContext } from '../audit/service'

const invalid = () => new HttpError(401, 'JWT token is invalid or expired', { code: 'invalid_token' })

/** A token that fails only because it expired is ordinary; one that fails otherwise is forged or tampered. */
async function expiredOnly(token: string, verify: (token: string, options: object) => Promise<unknown>): Promise<boolean> {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: unknown }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 > Date.now()) return false
    // Checked as of a second before it expired: only a genuine signature passes.
    return Boolean(await verify(token, { algorithms: ['HS256'], currentDate: new Date((claims.exp - 1) * 1000) }))
  } catch {
    return false
  }
}

const principals = new WeakMap<Request, Principal>()

type Verify = (token: string, options: object) => Promise<false | { typ?: unknown; sub: string; sid: string }>

/**
 * The principal a Bearer token (JWT access token or API key) stands for, or the 401 it gets;
 * `suspect` records an invalid_token threat for a token that looks forged or a key that is not
 * known. Shared by the guard and the chat WebSocket (src/chat/ws/), which gets its token another way.
 */
export async function principalOfToken(rt: Runtime, token: string, verify: Verify, suspect: (detail: string) => void, context?: RequestContext): Promise<Principal> {
  if (token.startsWith(API_KEY_PREFIX)) {
    const principal = await principalForApiKey(rt, token, Date.now(), context)
    if (principal) return principal
    suspect('an unknown, expired or revoked API key was presented')
    throw new HttpError(401, 'The API key is invalid, expired or revoked', { code: 'invalid_api_key' })
  }
  const claims = await verify(token, { algorithms: ['HS256'] })
  if (!claims || claims.typ !== 'access') {
    if (!(await expiredOnly(token, verify))) suspect('a forged or tampered access token was presented')
    throw invalid()
  }
  const principal = await principalForSession(rt, claims.sub, claims.sid)
  if (!principal) throw invalid()
  return principal
}

/** The access-token verifier outside a route (the WebSocket authenticates before any route runs). */
export const accessTokenVerifier = (rt: Runtime): Verify =>
  (new Elysia().use(accessTokens(rt.secretKey, rt.config.accessTokenMinutes)).decorator as unknown as { accessToken: { verify: Verify } }).accessToken.verify

export const authGuard = (rt: Runtime) =>
  new Elysia({ name: 'auth-guard' })
    .use(accessTokens(rt.secretKey, rt.config.accessTokenMinutes))
    .macro({
      auth(required: true | Role | 'optional') {
        return {
          // Authentication runs in `transform`, before the body and query are validated: a caller
          // is known (and refused when it must be) before its input is judged, and the request
          // log attributes even a 400 to its user.
          async transform({ headers, accessToken, request, server, set }) {
            const suspect = (detail: string) => {
              const address = clientAddress(request, server, rt.config.trustProxy)
              threatMonitorOf(rt).observe({ type: 'invalid_token', key: address ? addressKey(address) : 'unknown', address, detail })
            }
            // Anthropic's clients send the key as `x-api-key`: taken when there is no Authorization header.
            const apiKeyHeader = headers.authorization === undefined ? headers['x-api-key']?.trim() : undefined
            if (required === 'optional' && headers.authorization === undefined && apiKeyHeader === undefined) return
            const token = apiKeyHeader || /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1]
            if (!token)
              throw new HttpError(401, 'An Authorization header with a Bearer token (JWT or API key), or an x-api-key header, is required', {
                code: 'missing_token',
              })
            const principal = await inChildSpan(request, 'authenticate', {}, () => principalOfToken(rt, token, accessToken.verify, suspect, { request, server, set }))
            const facts = factsOf(request)
            facts.userId = principal.userId
            facts.apiKeyId = principal.apiKeyId
            facts.sessionId = principal.sessionId
            if (required === 'admin' && principal.role !== 'admin')
              throw new HttpError(403, 'This endpoint requires the admin role', { code: 'forbidden' })
            const scope = scopeNeeded(request.method, new URL(request.url).pathname)
            if (!mayAct(principal, scope))
              throw new HttpError(403, `This API key lacks the \`${scope}\` scope that this endpoint needs`, { code: 'missing_scope' })
            principals.set(request, principal)
          },
          // A key limited to some models: checked once the body is read (the model is in it).
          beforeHandle({ body, request }) {
            const { models } = principals.get(request) ?? {}
            const model = (body as { model?: unknown } | undefined)?.model
            if (models && typeof model === 'string' && !modelAllowed(model, models))
              throw new HttpError(403, 'This API key may not use the model named in the request', { param: 'model', code: 'model_not_allowed' })
          },
          resolve: ({ request }) => ({ principal: principals.get(request)! }),
        }
      },
    })
