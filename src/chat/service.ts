// A chat completion from start to end: map the request, open it upstream, then either collect
// the whole reply or turn it into SSE events as each upstream message arrives. Records the
// facts the request log needs (model, host, tokens, timings, outcome) as they become known.
import { sse } from 'elysia'
import type { ChatResponse } from 'ollama/browser'
import { errorBody, HttpError } from '../http/errors'
import { factsOf, markStreaming, streamEnded, type Outcome, type RequestFacts } from '../telemetry/facts'
import { clientGone, midStreamFailure } from './failures'
import type { Pool } from './pool'
import type { ChatRequest } from './schemas'
import { toOllamaRequest } from './to-ollama'
import { newCompletion, Translator, usageOf } from './to-openai'
import { Aborted } from './aborted'
import type { UpstreamChat } from './upstream-chat'

export type Started = { chat: UpstreamChat; translator: Translator; request: Request; facts: RequestFacts }

const outcomeOf = (code: string | null | undefined): Outcome =>
  code?.startsWith('upstream_') && code !== 'upstream_rejected' ? 'upstream_error' : 'client_error'

/** The client went away: its request's signal says so, or the upstream chat was closed for it. */
const isCancel = (request: Request, error: unknown) =>
  request.signal.aborted || (error instanceof Aborted && error.why === 'client')

function fail(facts: RequestFacts, outcome: Outcome, errorType?: string) {
  facts.outcome = outcome
  if (errorType) facts.errorType = errorType
  facts.totalMs = performance.now() - facts.startedAt
}

/** Opens the upstream chat; a failure before its first message is thrown as the HttpError the client gets. */
export async function startCompletion(pool: Pool, body: ChatRequest, request: Request): Promise<Started> {
  const facts = factsOf(request)
  facts.model = body.model
  try {
    const chat = await pool.chat(toOllamaRequest(body), request.signal)
    const translator = new Translator(newCompletion(body.model, body.stream_options?.include_usage === true))
    facts.upstream = chat.host.url
    facts.completionId = translator.completion.id
    facts.ttftMs = chat.firstMessageAt - facts.startedAt
    return { chat, translator, request, facts }
  } catch (error) {
    if (error instanceof Aborted) {
      fail(facts, 'cancelled')
      throw clientGone()
    }
    if (error instanceof HttpError) fail(facts, outcomeOf(error.options.code), error.options.code ?? undefined)
    throw error
  }
}

function recordTokens({ translator, facts }: Started) {
  const usage = usageOf(translator.final)
  facts.promptTokens = usage.prompt_tokens
  // Without Ollama's final message (a cancelled or broken reply), each message it streamed was one token.
  facts.completionTokens = translator.final ? usage.completion_tokens : translator.messages
}

function finish(started: Started) {
  const { translator, facts } = started
  recordTokens(started)
  facts.finishReason = translator.finishReason
  facts.outcome = 'ok'
  facts.totalMs = performance.now() - facts.startedAt
}

/** The whole reply as one `chat.completion`. */
export async function collectCompletion(started: Started) {
  const { chat, translator, request, facts } = started
  try {
    for (let message: ChatResponse | undefined = chat.first; message; message = await chat.next()) translator.push(message)
  } catch (error) {
    if (isCancel(request, error)) {
      fail(facts, 'cancelled')
      throw clientGone()
    }
    const failure = midStreamFailure(chat.host, error)
    fail(facts, 'upstream_error', failure.options.code!)
    recordTokens(started)
    throw failure
  }
  finish(started)
  return translator.reply()
}

/**
 * The reply as SSE event payloads (Elysia frames each string as `data: …`), each yielded as soon as
 * its upstream message arrives, then `[DONE]`. An upstream that dies mid-stream yields an
 * `error` event, then `[DONE]`. When the client goes away, Elysia ends this generator and the
 * upstream request is aborted at once (by the request's abort signal, and by `close()`).
 */
export async function* streamCompletion(started: Started) {
  const { chat, translator, request, facts } = started
  markStreaming(request)
  try {
    for (let message: ChatResponse | undefined = chat.first; message; message = await chat.next()) {
      const delta = translator.push(message)
      if (delta) yield translator.chunk(delta)
    }
    finish(started)
    yield* translator.closingChunks()
    yield '[DONE]'
  } catch (error) {
    if (isCancel(request, error)) return fail(facts, 'cancelled')
    const failure = midStreamFailure(chat.host, error)
    fail(facts, 'upstream_error', failure.options.code!)
    yield sse({ event: 'error', data: errorBody('/v1', failure.status, failure.message, failure.options) })
    yield '[DONE]'
  } finally {
    chat.close()
    if (!facts.outcome) fail(facts, 'cancelled')
    recordTokens(started)
    streamEnded(request)
  }
}
