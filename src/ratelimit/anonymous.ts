// Requests that no one signed in for are limited per client address (RATE_LIMIT_ANONYMOUS a
// minute): anyone can send them, and each would otherwise be a row in the request log. A request
// without credentials is counted when it arrives, and refused with 429 past the limit; one whose
// credentials turned out to identify no one (a bad token, an unknown route, a body refused before
// sign-in was checked) is counted when it is logged. Either way, past the limit the request is
// still added to the dashboard's rollups, but its raw row is not kept (`rollupOnly`).
import { Elysia } from 'elysia'
import { clientAddress } from '../http/client-address'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { factsOf, type RequestFacts } from '../telemetry/facts'
import { callerKey, countRequest, hitLimit } from '.'

const counted = new WeakSet<Request>()

const limitedPath = (url: string) => /^https?:\/\/[^/]+\/(api|v1)(\/|$)/.test(url)

export const anonymousLimit = (rt: Runtime) =>
  new Elysia({ name: 'anonymous-limit' }).onRequest(async ({ request, server, set }) => {
    if (!rt.config.rateLimits.anonymous || request.method === 'OPTIONS' || request.headers.has('authorization')) return
    if (!limitedPath(request.url)) return
    const address = clientAddress(request, server, rt.config.trustProxy)
    if (address === undefined) return
    counted.add(request)
    try {
      await countRequest(rt, 'anonymous', callerKey(undefined, address), set.headers, { address })
    } catch (error) {
      if (error instanceof HttpError && error.status === 429) factsOf(request).rollupOnly = true
      throw error
    }
  })

/**
 * At logging time: whether the raw row of a request that turned out anonymous is kept. Counts it
 * against its address's anonymous limit unless it was counted on arrival.
 */
export async function keepAnonymousRow(rt: Runtime, request: Request, facts: RequestFacts, address: string | undefined): Promise<boolean> {
  if (facts.userId || facts.rollupOnly || counted.has(request) || !rt.config.rateLimits.anonymous || address === undefined) return !facts.rollupOnly
  return (await hitLimit(rt, 'anonymous', callerKey(undefined, address))).allowed
}
