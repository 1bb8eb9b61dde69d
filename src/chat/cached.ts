// The chat route's side of the response cache (src/cache/): on a hit the stored answer is
// replayed through the same collector and SSE writer as a live reply (./service.ts), so a replay
// is byte for byte the shape clients already parse, streamed or not, whichever way it was first
// asked for; on a miss Ollama answers, and the answer is stored once it is whole (an error, or a
// stream cancelled or cut, never reaches that point).
import type { ChatResponse } from 'ollama/browser'
import { lookUp, type CachedCompletion } from '../cache'
import type { Runtime } from '../runtime'
import { factsOf, tokenCount } from '../telemetry/facts'
import { Aborted } from './aborted'
import type { ChatRequest } from './schemas'
import { recordCaller, translatorFor, type Chat, type Started } from './service'

/** A stored answer is one choice without logprobs: a request for several choices, or for logprobs, is always asked of Ollama. */
const answerable = (body: ChatRequest) => (body.n ?? 1) === 1 && body.logprobs !== true

/** Opens the completion: from the cache on a hit, else from `live` (Ollama), whose answer is then stored when it is complete. */
export async function openCompletion(
  rt: Runtime,
  body: ChatRequest,
  request: Request,
  userId: string,
  headersOut: Record<string, unknown>,
  live: () => Promise<Started>,
): Promise<Started> {
  if (!answerable(body)) {
    if (rt.config.cache.ttlSeconds) headersOut['x-cache'] = 'MISS'
    return live()
  }
  const lookup = await lookUp(rt, request, body, userId, headersOut)
  if (lookup.hit) return replay(lookup.hit, body, request, rt.config.maxRequestSeconds * 1000)
  const started = await live()
  started.onFinish = () => lookup.keep(answerOf(started))
  return started
}

/** What the cache keeps of a complete reply. */
export function answerOf({ translator }: Started): CachedCompletion {
  const { final } = translator
  return {
    content: translator.content,
    reasoning: translator.reasoning,
    toolCalls: translator.toolCalls.map(({ id, function: { name, arguments: args } }) => ({ id, name, arguments: args })),
    doneReason: final?.done_reason,
    promptTokens: tokenCount(final?.prompt_eval_count),
    completionTokens: tokenCount(final?.eval_count),
  }
}

/**
 * The stored answer as the Ollama messages it stands for: one with all its text, reasoning and
 * tool calls (their ids as first sent), then the final one with its counts. A replay is a new
 * completion (its own id and time, which feedback and the log refer to), with the same content.
 */
function messagesOf(answer: CachedCompletion): ChatResponse[] {
  const toolCalls = answer.toolCalls.map(({ id, name, arguments: args }) => ({ id, function: { name, arguments: args } }))
  const messages = [
    { message: { role: 'assistant', content: answer.content, thinking: answer.reasoning || undefined, tool_calls: toolCalls.length ? toolCalls : undefined }, done: false },
    {
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: answer.doneReason,
      prompt_eval_count: answer.promptTokens,
      eval_count: answer.completionTokens,
    },
  ]
  return messages as unknown as ChatResponse[]
}

/** Where a replay comes from, as errors would name it (a replay has no upstream to fail). */
const REPLAY_HOST = { url: 'the response cache' }

function replay(answer: CachedCompletion, body: ChatRequest, request: Request, maxRequestMs: number): Started {
  const facts = factsOf(request)
  facts.model = body.model
  const translator = translatorFor(body)
  recordCaller(facts, body)
  facts.cached = true
  facts.completionId = translator.completion.id
  const chat: Chat = {
    host: REPLAY_HOST,
    firstMessageAt: performance.now(),
    first: messagesOf(answer),
    next: async () => undefined,
    waitForClient: (written) => untilWritten(written, request.signal, facts.startedAt + maxRequestMs),
    close() {},
  }
  facts.ttftMs = chat.firstMessageAt - facts.startedAt
  return { chat, translator, request, facts }
}

/**
 * Waits while a client reads the replay slower than it is written. A client that goes away, or
 * has not read it by MAX_REQUEST_SECONDS, ends it, as either ends a live stream.
 */
async function untilWritten(written: PromiseLike<unknown>, signal: AbortSignal, deadline: number) {
  let timer: Timer | undefined
  let leave: (() => void) | undefined
  const ended = new Promise<never>((_, reject) => {
    leave = () => reject(new Aborted('client'))
    signal.addEventListener('abort', leave, { once: true })
    timer = setTimeout(() => reject(new Aborted('deadline')), Math.max(0, deadline - performance.now()))
  })
  try {
    if (signal.aborted) throw new Aborted('client')
    await Promise.race([written, ended])
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', leave!)
  }
}
