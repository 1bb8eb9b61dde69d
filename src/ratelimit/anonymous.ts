// Requests that no one signed in for are limited per client address (RATE_LIMIT_ANONYMOUS a
// minute): anyone can send them, and each would otherwise be a row in the request log. A request
// without credentials is counted when it arrives; one whose credentials turned out to identify no
// one (a bad token, an unknown route, a body refused before sign-in was checked) is counted when
// it is logged. Past the limit a request is still added to the dashboard's rollups, but its raw
// row is not kept (`rollupOnly`), and it is refused with 429 — except sign-in (/api/auth/…) and
// health checks: any web page can make a victim's browser send anonymous requests, which must not
// lock that address out of signing in (sign-ins have their own limit, RATE_LIMIT_AUTH), nor make
// a container's health check fail.
import { Elysia } from 'elysia'
import { clientAddress } from '../http/client-address'
import type { Runtime } from '../runtime'
import { SharedStateUnavailable } from '../shared/fallback'
import { factsOf, type RequestFacts } from '../telemetry/facts'
import { callerKey, hitLimit, refuse } from '.'

const counted = new WeakSet<Request>()

const limitedPath = /^https?:\/\/[^/]+\/(api|v1)(\/|$)/
/** Served past the limit (without a raw log row): signing in, and health checks. */
const servedPath = /^https?:\/\/[^/]+\/(api\/auth(\/|$)|api\/dashboard\/health|v1\/health)/

/** Credentials come as `Authorization`, or as `x-api-key` from Anthropic's clients (auth/guard.ts). */
const hasCredentials = (request: Request) => request.headers.has('authorization') || request.headers.has('x-api-key')

export const anonymousLimit = (rt: Runtime) =>
  new Elysia({ name: 'anonymous-limit' }).onRequest(async ({ request, server, set }) => {
    if (!rt.config.rateLimits.anonymous || request.method === 'OPTIONS' || hasCredentials(request)) return
    if (!limitedPath.test(request.url)) return
    const address = clientAddress(request, server, rt.config.trustProxy)
    if (address === undefined) return
    counted.add(request)
    const who = callerKey(undefined, address)
    const served = servedPath.test(request.url)
    const verdict = await hitLimit(rt, 'anonymous', who).catch((error) => {
      // Redis lost under REDIS_FAILURE=closed: what is served past the limit is served without it
      // (a health check then says Redis is down); anything else gets the 503.
      if (served && error instanceof SharedStateUnavailable) return undefined
      throw error
    })
    if (!verdict || verdict.allowed) return
    factsOf(request).rollupOnly = true
    if (!served) refuse(rt, 'anonymous', who, verdict, set.headers, { address })
  })

/**
 * At logging time: whether the raw row of a request that turned out anonymous is kept. Counts it
 * against its address's anonymous limit unless it was counted on arrival. With Redis lost under
 * REDIS_FAILURE=closed nothing can be counted: only the rollups count it, as past the limit.
 */
export async function keepAnonymousRow(rt: Runtime, request: Request, facts: RequestFacts, address: string | undefined): Promise<boolean> {
  if (facts.userId || facts.rollupOnly || counted.has(request) || !rt.config.rateLimits.anonymous || address === undefined) return !facts.rollupOnly
  try {
    return (await hitLimit(rt, 'anonymous', callerKey(undefined, address))).allowed
  } catch (error) {
    if (error instanceof SharedStateUnavailable) return false
    throw error
  }
}
