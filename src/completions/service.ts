// A text completion from start to end: map the request, open Ollama's generate on a host that has
// the model (with the chat's failover, timeouts and cancellation: ../chat/pool.ts), then either
// collect the whole reply or write it as SSE as each upstream message arrives. Records the facts
// the request log needs (model, host, tokens, timings, outcome) as they become known, the way the
// chat service does; failures are the chat's (../chat/failures.ts).
import { capturingContent } from '../observability/tracing'
import type { GenerateResponse } from 'ollama/browser'
import { clientGone, midStreamFailure, outcomeOf } from '../chat/failures'
import type { Pool } from '../chat/pool'
import { DONE, fail, isCancel, notOpened, relayStream, sseEvent as event } from '../chat/relay'
import { chatChunks } from '../chat/service'
import type { UpstreamReply } from '../chat/upstream-reply'
import { HttpError } from '../http/errors'
import { factsOf, type RequestFacts } from '../telemetry/facts'
import type { CompletionRequest } from './model'
import { toGenerateRequest } from './to-ollama'
import { newTextCompletion, TextTranslator, usageOf } from './to-openai'

export type StartedCompletion = {
  reply: UpstreamReply<GenerateResponse>
  translator: TextTranslator
  request: Request
  facts: RequestFacts
}

/**
 * Opens the upstream generate, its output capped at `maxOutputTokens`; a failure before its first
 * message is thrown as the HttpError the client gets.
 */
export async function startTextCompletion(
  pool: Pool,
  body: CompletionRequest,
  request: Request,
  maxOutputTokens: number,
): Promise<StartedCompletion> {
  const facts = factsOf(request)
  facts.model = body.model
  if (capturingContent(request)) facts.content = { input: body.prompt }
  try {
    const upstream = toGenerateRequest(body, maxOutputTokens)
    const send = { ollama: { path: '/api/generate' as const, body: upstream }, needs: 'completion' as const }
    const reply = await pool.stream<GenerateResponse>(upstream.model, send, request.signal, facts.startedAt)
    const translator = new TextTranslator(newTextCompletion(body.model, body.stream_options?.include_usage === true, upstream.logprobs === true))
    facts.upstream = reply.host.url
    facts.completionId = translator.completion.id
    facts.ttftMs = reply.firstMessageAt - facts.startedAt
    return { reply, translator, request, facts }
  } catch (error) {
    throw notOpened(pool, body.model, facts, error)
  }
}

function recordTokens({ translator, facts }: StartedCompletion) {
  const usage = usageOf(translator.final)
  facts.promptTokens = usage.prompt_tokens
  // Without Ollama's final message (a cancelled or broken reply), each message it streamed was one token.
  facts.completionTokens = translator.final ? usage.completion_tokens : translator.messages
}

function finish(started: StartedCompletion) {
  const { translator, facts } = started
  facts.finishReason = translator.finishReason
  facts.outcome = 'ok'
  facts.totalMs = performance.now() - facts.startedAt
  recordTokens(started)
  if (facts.content) facts.content.output = translator.text
}

/** The whole reply as one `text_completion`. */
export async function collectTextCompletion(started: StartedCompletion) {
  const { reply, translator, request, facts } = started
  try {
    for (let messages: GenerateResponse[] | undefined = reply.first; messages; messages = await reply.next())
      for (const message of messages) translator.push(message)
  } catch (error) {
    recordTokens(started)
    if (isCancel(request, error)) {
      fail(facts, 'cancelled')
      throw clientGone()
    }
    const failure = midStreamFailure(reply.host, error)
    fail(facts, outcomeOf(failure), failure.options.code!)
    throw failure
  }
  finish(started)
  return translator.reply()
}


/**
 * The reply as an SSE body, written as the upstream's messages arrive (../chat/relay.ts), then
 * the finish chunk, the usage chunk if asked for, and `[DONE]`; a failure mid-stream is an
 * `error` event, then `[DONE]`.
 */
export function streamTextCompletion(started: StartedCompletion): ReadableStream {
  const { reply, translator, request, facts } = started
  return relayStream<GenerateResponse>({
    reply,
    request,
    facts,
    eventsOf(message) {
      const piece = translator.push(message)
      return piece ? event(translator.chunk(piece)) : ''
    },
    finish() {
      finish(started)
      return translator.closingChunks().map(event).join('') + DONE
    },
    // The same error event, then [DONE], as a chat stream's.
    failure: chatChunks.failure,
    ended: () => recordTokens(started),
  })
}
