// An API key's tokens-per-minute limit: a request of the key to an inference route is refused
// (429) while the key's requests that ended in the last minute used its limit or more, and the
// tokens of each request it lets in (prompt + completion, as the request log records them) are
// counted when the request ends — for a stream, when the stream ends, however it ends. Models
// lists and the dashboard spend no tokens: they stay open to a key past its limit. The key's
// limits per group are counted by the rate limiter itself (./index.ts).
import { MINUTE } from '../http/dates'
import { HttpError } from '../http/errors'
import { perRuntime, type Runtime } from '../runtime'
import { redisOf } from '../shared/redis'
import { factsOf, tokenCount, whenOver } from '../telemetry/facts'
import { threatMonitorOf } from '../threats'
import type { KeyLimits } from '../db/stores/keys'
import type { Caller, RateLimitGroup } from '.'
import { memoryTokenMeter, redisTokenMeter } from './tokens'

const requestKeyLimits = new WeakMap<Request, KeyLimits>()

/**
 * Records the limits of the API key a request came with, when the guard checks the key
 * (auth/principal.ts): the rate limiter counts in `transform`, before the body is validated and
 * before the route's principal is resolved, so that a key's limits are counted before its user's.
 */
export const rememberKeyLimits = (request: Request, limits: KeyLimits) => void requestKeyLimits.set(request, limits)

export const keyLimitsOf = (request: Request): KeyLimits | undefined => requestKeyLimits.get(request)

/** The groups whose requests spend tokens. */
const SPENDING_GROUPS: readonly RateLimitGroup[] = ['chat', 'embeddings', 'images']

/** The runtime's one token meter: on Redis with REDIS_URL (shared by every replica), else in memory. */
const tokenMeterOf = perRuntime((rt) => {
  const link = redisOf(rt)
  return link ? redisTokenMeter(link, rt.config.redis!.failure) : memoryTokenMeter()
})

/** Requests let in under a key's tokens-per-minute limit: their tokens are counted when they end. Request → API key id. */
const metered = new WeakMap<Request, string>()

const meterKey = (apiKeyId: string) => `key:${apiKeyId}`

/** Refuses the request of a key that has used its tokens per minute (429), else lets it in, its tokens to be counted when it ends. */
export async function checkTokensPerMinute(
  rt: Runtime,
  group: RateLimitGroup,
  request: Request,
  apiKeyId: string,
  { tokensPerMinute }: KeyLimits,
  headersOut: Record<string, unknown>,
  caller: Caller,
): Promise<void> {
  if (!tokensPerMinute || !SPENDING_GROUPS.includes(group)) return
  const verdict = await tokenMeterOf(rt).check(meterKey(apiKeyId), tokensPerMinute, MINUTE)
  // As OpenAI names them.
  const headers = { 'x-ratelimit-limit-tokens': String(tokensPerMinute), 'x-ratelimit-remaining-tokens': String(Math.max(0, tokensPerMinute - verdict.used)) }
  Object.assign(headersOut, headers)
  if (verdict.allowed) return void metered.set(request, apiKeyId)
  threatMonitorOf(rt).observe({
    type: 'rate_limit',
    key: `tokens|key:${apiKeyId}`,
    userId: caller.userId,
    apiKeyId,
    address: caller.address,
    detail: `limit of ${tokensPerMinute} tokens per minute reached by key:${apiKeyId}`,
  })
  const retryAfter = Math.max(1, Math.ceil((verdict.resetAt - Date.now()) / 1000))
  throw new HttpError(429, `Token limit of ${tokensPerMinute} tokens per minute of this API key reached; retry in ${retryAfter} s`, {
    code: 'rate_limit_exceeded',
    headers: { ...headers, 'retry-after': String(retryAfter) },
  })
}

/**
 * Counts the tokens of a metered request once it is over. Called before its response is sent: a
 * reply's tokens are counted (on every replica) before the client can send its next request; a
 * stream still being written counts its tokens when it ends. Never fails the request: tokens that
 * cannot be counted (Redis lost under REDIS_FAILURE=closed) are not.
 */
export async function recordTokens(rt: Runtime, request: Request): Promise<void> {
  const apiKeyId = metered.get(request)
  if (!apiKeyId) return
  metered.delete(request)
  let recording: Promise<void> | undefined
  whenOver(request, () => {
    const facts = factsOf(request)
    const tokens = tokenCount(facts.promptTokens) + tokenCount(facts.completionTokens)
    if (tokens) recording = tokenMeterOf(rt).record(meterKey(apiKeyId), tokens, MINUTE).catch(() => {})
  })
  await recording
}
