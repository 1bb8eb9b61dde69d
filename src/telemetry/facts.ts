// The facts about one request that handlers know and the request log records.
// Handlers add to them with `factsOf(request)`; only the telemetry plugin writes logs.

export type Outcome = 'ok' | 'client_error' | 'server_error' | 'cancelled' | 'upstream_error'

export type RequestFacts = {
  startedAt: number
  userId?: string
  apiKeyId?: string
  sessionId?: string
  model?: string
  upstream?: string
  completionId?: string
  promptTokens?: number
  completionTokens?: number
  ttftMs?: number
  totalMs?: number
  finishReason?: string
  outcome?: Outcome
  errorType?: string
  /** Set by a streaming handler: the log is written when the stream ends, not when the response starts. */
  streaming?: boolean
}

const facts = new WeakMap<Request, RequestFacts>()

export function factsOf(request: Request): RequestFacts {
  let entry = facts.get(request)
  if (!entry) facts.set(request, (entry = { startedAt: performance.now() }))
  return entry
}
