// A chat completion from start to end: map the request, open it upstream, then either collect
// the whole reply or turn it into SSE events as each upstream message arrives. A request for
// several choices (`n`, not streamed) opens one upstream chat per choice, read side by side.
// Records the facts the request log needs (model, host, tokens, timings, outcome, the caller's
// `user` and `metadata`) as they become known.
import type { ChatResponse } from 'ollama/browser'
import { capturingContent } from '../observability/tracing'
import { errorBody, HttpError } from '../http/errors'
import { factsOf, tokenCount, type RequestFacts } from '../telemetry/facts'
import { clientGone, midStreamFailure, outcomeOf } from './failures'
import { openAiChat } from './openai-chat'
import { DONE, fail, isCancel, notOpened, relayStream, sseEvent as event } from './relay'
import type { Pool } from './pool'
import type { ChatRequest } from './schemas'
import { checkChatRequest, forChoice, toOllamaRequest, usesLegacyFunctions } from './to-ollama'
import { newCompletion, replyOf, Translator } from './to-openai'
import type { UpstreamReply } from './upstream-reply'

/** What the reply is read from: a chat on an Ollama host, or an answer replayed from the response cache (./cached.ts). */
export type Chat = Pick<UpstreamReply<ChatResponse>, 'first' | 'firstMessageAt' | 'next' | 'waitForClient' | 'close'> & { host: Pick<UpstreamReply<ChatResponse>['host'], 'url'> }

/** One choice of the reply: the chat it is read from, and its translator. */
export type Choice = { chat: Chat; translator: Translator }

export type Started = {
  chat: Chat
  translator: Translator
  /** Choices 1 to n - 1 when the request asked for several (`n`); `chat` and `translator` are choice 0. */
  moreChoices?: Choice[]
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

/**
 * The translator of a request's reply (choice 0): a new completion id, answered as the client
 * asked. Every reply, from Ollama or the response cache, is made through here, so the request's
 * parameters are checked here first (a 400 naming the field).
 */
export function translatorFor(body: ChatRequest): Translator {
  checkChatRequest(body)
  return new Translator(
    newCompletion(body.model, {
      includeUsage: body.stream_options?.include_usage === true,
      logprobs: body.logprobs === true,
      legacyFunctions: usesLegacyFunctions(body),
      parallelToolCalls: body.parallel_tool_calls !== false,
    }),
  )
}

/** The caller's own labels of the request (OpenAI's `user` and `metadata`), kept on its log row: call it once they are checked (`translatorFor`). */
export function recordCaller(facts: RequestFacts, body: ChatRequest) {
  if (body.user != null) facts.endUser = body.user
  if (body.metadata != null) facts.metadata = body.metadata as Record<string, string>
}

/**
 * Opens the upstream chat, its output capped at `maxOutputTokens`; a failure before its first
 * message is thrown as the HttpError the client gets.
 */
export async function startCompletion(pool: Pool, body: ChatRequest, request: Request, maxOutputTokens: number): Promise<Started> {
  const facts = factsOf(request)
  facts.model = body.model
  if (capturingContent(request)) facts.content = { input: body.messages }
  try {
    const translator = translatorFor(body)
    recordCaller(facts, body)
    const upstreamRequest = toOllamaRequest(body, maxOutputTokens)
    const requests = Array.from({ length: body.n ?? 1 }, (_, choice) => forChoice(upstreamRequest, choice))
    const [chat, ...more] = await openChats(pool, body, requests, request.signal, facts.startedAt)
    facts.upstream = chat!.host.url
    facts.completionId = translator.completion.id
    facts.ttftMs = chat!.firstMessageAt - facts.startedAt
    const moreChoices = more.map((other, i) => ({ chat: other, translator: new Translator(translator.completion, i + 1) }))
    return { chat: chat!, translator, request, facts, ...(moreChoices.length ? { moreChoices } : {}) }
  } catch (error) {
    throw notOpened(pool, body.model, facts, error)
  }
}

/**
 * The upstream chats of the choices, opened side by side (the pool spreading them over the
 * hosts). The first that fails fails them all at once: the others are aborted or closed.
 */
async function openChats(pool: Pool, body: ChatRequest, requests: ReturnType<typeof toOllamaRequest>[], signal: AbortSignal, startedAt: number) {
  const open = (each: ReturnType<typeof toOllamaRequest>, stop: AbortSignal) =>
    pool.stream<ChatResponse>(each.model, { ollama: { path: '/api/chat', body: each }, openai: openAiChat(body, each), needs: 'completion' }, stop, startedAt)
  if (requests.length === 1) return [await open(requests[0]!, signal)]
  const giveUp = new AbortController()
  const stop = AbortSignal.any([signal, giveUp.signal])
  let first: { reason: unknown } | undefined
  const settled = await Promise.allSettled(
    requests.map((each) =>
      open(each, stop).catch((reason) => {
        first ??= { reason }
        giveUp.abort()
        throw reason
      }),
    ),
  )
  if (!first) return settled.map((result) => (result as PromiseFulfilledResult<UpstreamReply<ChatResponse>>).value)
  for (const result of settled) if (result.status === 'fulfilled') result.value.close()
  throw first.reason
}

const choicesOf = (started: Started): Choice[] => [{ chat: started.chat, translator: started.translator }, ...(started.moreChoices ?? [])]

/** The tokens of every choice together. */
function recordTokens(started: Started) {
  const { facts } = started
  const translators = choicesOf(started).map((choice) => choice.translator)
  facts.promptTokens = translators.reduce((sum, { final }) => sum + tokenCount(final?.prompt_eval_count), 0)
  // Without Ollama's final message (a cancelled or broken reply), each message it streamed was one token.
  facts.completionTokens = translators.reduce((sum, { final, messages }) => sum + (final ? tokenCount(final.eval_count) : messages), 0)
}

function finish(started: Started) {
  const { translator, facts } = started
  facts.finishReason = translator.finishReason
  facts.outcome = 'ok'
  facts.totalMs = performance.now() - facts.startedAt
  recordTokens(started)
  if (facts.content) facts.content.output = replyOf(choicesOf(started).map((choice) => choice.translator)).choices.map((choice) => choice.message)
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

/** Reads every choice to its end, side by side; one that fails ends the others (closed) and the reply. */
async function collectReply(started: Started) {
  const { request, facts } = started
  const choices = choicesOf(started)
  let failedChat = started.chat
  try {
    await Promise.all(
      choices.map(async ({ chat, translator }) => {
        try {
          for (let messages: ChatResponse[] | undefined = chat.first; messages; messages = await chat.next())
            for (const message of messages) translator.push(message)
        } catch (error) {
          failedChat = chat
          throw error
        }
      }),
    )
  } catch (error) {
    const culprit = failedChat
    for (const { chat } of choices) chat.close()
    if (isCancel(request, error)) {
      fail(facts, 'cancelled')
      throw clientGone()
    }
    const failure = midStreamFailure(culprit.host, error)
    fail(facts, outcomeOf(failure), failure.options.code!)
    throw failure
  } finally {
    recordTokens(started)
  }
  finish(started)
  return replyOf(choices.map((choice) => choice.translator))
}


/**
 * How a stream is written for the API the client spoke: OpenAI's chat chunks here; Anthropic's
 * Messages events and OpenAI's Responses events elsewhere (src/messages/, src/responses/). The
 * reply is read, logged, kept and cut the same way whatever the dialect: the translator reads
 * each upstream message first, and the dialect writes what its delta says.
 */
export type StreamDialect = {
  /** The events for one message's delta (as `Translator.push` returns it). */
  events(delta: Record<string, unknown>, translator: Translator): string
  /** The events that end a complete reply. */
  closing(translator: Translator): string
  /** The events that end a reply that failed mid-stream (or was stopped by the gateway). */
  failure(error: HttpError): string
}

/** OpenAI's chat chunks: `data: {chunk}` events, then `[DONE]`; a failure is an `error` event in OpenAI's envelope. */
export const chatChunks: StreamDialect = {
  events: (delta, translator) => event(translator.chunk(delta)),
  closing: (translator) => translator.closingChunks().map(event).join('') + DONE,
  failure: (error) => `event: error\n${event(JSON.stringify(errorBody('/v1', error.status, error.message, error.options)))}${DONE}`,
}

/**
 * The reply as an SSE body, written as the upstream's messages arrive: the events of the
 * messages of one network read in one write, then the dialect's closing events. An upstream that
 * dies mid-stream, and a stream the gateway stops (past MAX_REQUEST_SECONDS, or at the shutdown
 * deadline), get the dialect's failure events. When the client goes away, the request's abort
 * signal aborts the upstream request at once, and `next()` rejects.
 */
export function streamCompletion(started: Started, dialect: StreamDialect = chatChunks): ReadableStream {
  const { chat, translator, request, facts } = started
  return relayStream<ChatResponse>({
    reply: chat,
    request,
    facts,
    eventsOf(message) {
      const delta = translator.push(message)
      return delta ? dialect.events(delta, translator) : ''
    },
    async finish() {
      finish(started)
      await started.keepReply?.()
      return dialect.closing(translator)
    },
    failure: (error) => dialect.failure(error),
    ended() {
      recordTokens(started)
      started.onEnd?.()
    },
  })
}
