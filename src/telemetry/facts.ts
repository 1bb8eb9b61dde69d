// The facts about one request that handlers know and the request log records.
// Handlers add to them with `factsOf(request)`; only the telemetry plugin writes logs.
import type { Outcome } from '../db/stores/telemetry'

// How a request ended: defined with the request log's row (src/db/stores/telemetry.ts).
export { OUTCOMES, type Outcome } from '../db/stores/telemetry'

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
  /** The caller's own id of its end user (OpenAI's `user` on a chat request; at most 256 characters). */
  endUser?: string
  /** How many images an image request made (src/images/). */
  images?: number
  /** The caller's own labels of the request (OpenAI's `metadata`: at most 16 pairs of strings). */
  metadata?: Record<string, string>
  /** Answered from the response cache: no upstream was called, so it costs nothing (src/cache/). */
  cached?: boolean
  /** Counted in the rollups, its raw row not kept: an anonymous request past RATE_LIMIT_ANONYMOUS. */
  rollupOnly?: boolean
  /** How the client asked: a chat request made over the WebSocket (src/chat/ws/) is logged under its path, /v1/chat/ws. */
  transport?: 'http' | 'websocket'
  /** The prompt and the reply, kept only for a traced request whose content is recorded (OTEL_CAPTURE_CONTENT=true). */
  content?: { input?: unknown; output?: unknown }
  /** Set by a streaming handler: the log is written when the stream ends, not when the response starts. */
  streaming?: boolean
  /** Set by `streamEnded`. */
  ended?: boolean
  /** Called when a stream ends (see `whenOver`). */
  onEnd?: (() => void)[]
}

/** A token count as the gateway states it, to clients and in the log: whole and finite, or 0. */
export const tokenCount = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0)

const facts = new WeakMap<Request, RequestFacts>()

export function factsOf(request: Request): RequestFacts {
  let entry = facts.get(request)
  if (!entry) facts.set(request, (entry = { startedAt: performance.now() }))
  return entry
}

/** Called by a streaming handler before its first chunk: the request is logged when it ends. */
export function markStreaming(request: Request): RequestFacts {
  const entry = factsOf(request)
  entry.streaming = true
  return entry
}

/** Called from a streaming handler's `finally`, after its last facts are recorded. */
export function streamEnded(request: Request): void {
  const entry = factsOf(request)
  if (entry.ended) return
  entry.ended = true
  const listeners = entry.onEnd
  entry.onEnd = undefined
  listeners?.forEach((listener) => listener())
}

/**
 * Runs `listener` once the request is over: at once (call it after the response was sent), or
 * for a stream still being written, when the stream ends, however it ends.
 */
export function whenOver(request: Request, listener: () => void): void {
  const entry = factsOf(request)
  if (!entry.streaming || entry.ended) return listener()
  ;(entry.onEnd ??= []).push(listener)
}
