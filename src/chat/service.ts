// A chat completion from start to end: map the request, open it upstream, then either collect
// the whole reply or turn it into SSE events as each upstream message arrives. Records the
// facts the request log needs (model, host, tokens, timings, outcome) as they become known.
import type { ChatResponse } from 'ollama/browser'
import { errorBody, HttpError } from '../http/errors'
import { factsOf, markStreaming, streamEnded, type Outcome, type RequestFacts } from '../telemetry/facts'
import { clientGone, midStreamFailure } from './failures'
import type { Pool } from './pool'
import type { ChatRequest } from './schemas'
import { toOllamaRequest } from './to-ollama'
import { newCompletion, Translator, usageOf } from './to-openai'
import { Aborted } from './aborted'
import type { UpstreamReply } from './upstream-reply'

/** What the reply is read from: a chat on an Ollama host, or an answer replayed from the response cache (./cached.ts). */
export type Chat = Pick<UpstreamReply<ChatResponse>, 'first' | 'firstMessageAt' | 'next' | 'waitForClient' | 'close'> & { host: Pick<UpstreamReply<ChatResponse>['host'], 'url'> }

export type Started = {
  chat: Chat
  translator: Translator
  request: Request
  facts: RequestFacts
  /** Called once the whole reply has been read, before its end is sent (the response cache stores it then). */
  onFinish?: () => void
  /**
   * Awaited once the whole reply has been read, before its end is sent: a conversation stores
   * the reply then, so a client that reads the conversation when the stream ends finds it.
   */
  keepReply?: () => Promise<void>
  /**
   * Called once when the reply has ended however it ended (complete, cancelled or failed; see
   * `facts.outcome`), with the translator holding as much as was read: a conversation keeps it then (./conversation.ts).
   */
  onEnd?: () => void
}

/** The translator of a request's reply: a new completion id, and the usage chunk if the client asked for it. */
export const translatorFor = (body: ChatRequest) => new Translator(newCompletion(body.model, body.stream_options?.include_usage === true))

/** An upstream's failure, the gateway's own (a request past its time, a shutdown), or the request's fault. */
export function outcomeOf(error: HttpError): Outcome {
  const { code } = error.options
  if (code?.startsWith('upstream_') && code !== 'upstream_rejected') return 'upstream_error'
  return error.status >= 500 ? 'server_error' : 'client_error'
}

/** The client went away: its request's signal says so, or the upstream chat was closed for it. */
export const isCancel = (request: Request, error: unknown) =>
  request.signal.aborted || (error instanceof Aborted && error.why === 'client')

/** Records how a request ended without a complete reply. */
export function fail(facts: RequestFacts, outcome: Outcome, errorType?: string) {
  facts.outcome = outcome
  if (errorType) facts.errorType = errorType
  facts.totalMs = performance.now() - facts.startedAt
}

/**
 * Opens the upstream chat, its output capped at `maxOutputTokens`; a failure before its first
 * message is thrown as the HttpError the client gets.
 */
export async function startCompletion(pool: Pool, body: ChatRequest, request: Request, maxOutputTokens: number): Promise<Started> {
  const facts = factsOf(request)
  facts.model = body.model
  try {
    const upstream = toOllamaRequest(body, maxOutputTokens)
    const chat = await pool.stream<ChatResponse>(upstream.model, (client) => client.chat(upstream), request.signal, facts.startedAt)
    const translator = translatorFor(body)
    facts.upstream = chat.host.url
    facts.completionId = translator.completion.id
    facts.ttftMs = chat.firstMessageAt - facts.startedAt
    return { chat, translator, request, facts }
  } catch (error) {
    // A model no reachable host lists is whatever the client typed: kept out of the log and the dashboard's models.
    if (!pool.lists(body.model)) facts.model = undefined
    if (error instanceof Aborted) {
      fail(facts, 'cancelled')
      throw clientGone()
    }
    if (error instanceof HttpError) fail(facts, outcomeOf(error), error.options.code ?? undefined)
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
  facts.finishReason = translator.finishReason
  facts.outcome = 'ok'
  facts.totalMs = performance.now() - facts.startedAt
  recordTokens(started)
  started.onFinish?.()
}

/** The whole reply as one `chat.completion`. */
export async function collectCompletion(started: Started) {
  try {
    const reply = await collectReply(started)
    await started.keepReply?.()
    return reply
  } finally {
    started.onEnd?.()
  }
}

async function collectReply(started: Started) {
  const { chat, translator, request, facts } = started
  try {
    for (let messages: ChatResponse[] | undefined = chat.first; messages; messages = await chat.next())
      for (const message of messages) translator.push(message)
  } catch (error) {
    if (isCancel(request, error)) {
      fail(facts, 'cancelled')
      throw clientGone()
    }
    const failure = midStreamFailure(chat.host, error)
    fail(facts, outcomeOf(failure), failure.options.code!)
    throw failure
  } finally {
    recordTokens(started)
  }
  finish(started)
  return translator.reply()
}

const DONE = 'data: [DONE]\n\n'
const event = (data: string) => `data: ${data}\n\n`

/**
 * The reply as an SSE body, written as the upstream's messages arrive: the events of the
 * messages of one network read in one write, then `[DONE]`. An upstream that dies mid-stream,
 * and a stream the gateway stops (past MAX_REQUEST_SECONDS, or at the shutdown deadline), get
 * an `error` event, then `[DONE]`. When the client goes away, the request's abort signal aborts
 * the upstream request at once, and `next()` rejects.
 */
export function streamCompletion(started: Started): ReadableStream {
  const { chat, translator, request, facts } = started
  markStreaming(request)
  let ended = false
  const end = () => {
    if (ended) return
    ended = true
    request.signal.removeEventListener('abort', end)
    chat.close()
    if (!facts.outcome) fail(facts, 'cancelled')
    recordTokens(started)
    started.onEnd?.()
    streamEnded(request)
  }
  // Whichever comes first ends it: the reply's end, Bun's cancel, or the client going away
  // (even before Bun started the body, when neither of the others would come).
  request.signal.addEventListener('abort', end, { once: true })
  const source: Bun.DirectUnderlyingSource = {
    type: 'direct',
    async pull(sink) {
      try {
        for (let messages: ChatResponse[] | undefined = chat.first; messages; messages = await chat.next()) {
          let events = ''
          for (const message of messages) {
            const delta = translator.push(message)
            if (delta) events += event(translator.chunk(delta))
          }
          if (!events) continue
          const written = sink.write(events)
          if (typeof written !== 'number') await chat.waitForClient(written)
        }
        finish(started)
        await started.keepReply?.()
        sink.write(translator.closingChunks().map(event).join('') + DONE)
      } catch (error) {
        if (isCancel(request, error)) return void fail(facts, 'cancelled')
        const failure = midStreamFailure(chat.host, error)
        fail(facts, outcomeOf(failure), failure.options.code!)
        sink.write(`event: error\n${event(JSON.stringify(errorBody('/v1', failure.status, failure.message, failure.options)))}${DONE}`)
      } finally {
        end()
        sink.close()
      }
    },
    cancel: end,
  }
  // The DOM typings (which the tests need) hide Bun's own constructor overload.
  return new ReadableStream(source as unknown as UnderlyingDefaultSource)
}
