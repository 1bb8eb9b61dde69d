// Turns a proven identity into a session from inside a route: records who the client is,
// and tells the request log which user and session the sign-in request belongs to.
import type { Server } from 'bun'
import type { Runtime } from '../runtime'
import { clientInfo } from '../telemetry/country'
import { factsOf } from '../telemetry/facts'
import type { Signer } from './jwt'
import type { TokenPairView } from './model'
import { startSession } from './sessions'
import type { User } from './store'

export type SignInContext = { request: Request; server: Server<unknown> | null; accessToken: { sign: Signer } }

export async function signIn(rt: Runtime, context: SignInContext, user: User, provider: string): Promise<TokenPairView> {
  const { request, server, accessToken } = context
  const client = clientInfo(request, server, rt.config.trustProxy)
  const { sessionId, ...tokens } = await startSession(rt, (claims) => accessToken.sign(claims), user, provider, client)
  const facts = factsOf(request)
  facts.userId = user.id
  facts.sessionId = sessionId
  return tokens
}
