// Turns a proven identity into a session from inside a route: records who the client is,
// tells the request log which user and session the sign-in request belongs to, and records the
// sign-in in the audit trail.
import type { Server } from 'bun'
import { originOf, recordAudit } from '../audit/service'
import type { Runtime } from '../runtime'
import { clientInfo } from '../telemetry/country'
import { factsOf } from '../telemetry/facts'
import type { Signer } from './jwt'
import type { TokenPairView } from './model'
import { startSession } from './sessions'
import type { User } from './store'

export type SignInContext = { request: Request; server: Server<unknown> | null; set: { headers: Record<string, unknown> }; accessToken: { sign: Signer } }

export async function signIn(rt: Runtime, context: SignInContext, user: User, provider: string): Promise<TokenPairView> {
  const { request, server, accessToken } = context
  const client = clientInfo(request, server, rt.config.trustProxy)
  const { sessionId, ...tokens } = await startSession(rt, (claims) => accessToken.sign(claims), user, provider, client)
  const facts = factsOf(request)
  facts.userId = user.id
  facts.sessionId = sessionId
  recordAudit(rt, originOf(rt, context, { userId: user.id, email: user.email }), { action: 'sign_in.succeeded', targetType: 'user', targetId: user.id, after: { provider } })
  return tokens
}
