// Turns Ollama's chat messages into OpenAI's objects: `chat.completion.chunk` events for a
// stream and one `chat.completion` for a plain reply, each with the camelCase twins
// (`finishReason`, `usage.promptTokens`…) that the studio frontend reads. Tool calls are
// answered as `tool_calls`, or as the legacy `function_call` to a client that sent `functions`;
// Ollama's logprobs as OpenAI's `logprobs.content`.
import type { ChatResponse, Logprob, ToolCall } from 'ollama/browser'
import { tokenCount } from '../telemetry/facts'

/** How the client asked the reply to be answered. */
export type ReplyOptions = {
  /** The usage-only last chunk of a stream (`stream_options.include_usage`). */
  includeUsage: boolean
  /** `logprobs: true`: each token's log probability, from Ollama's. */
  logprobs: boolean
  /** The client sent the legacy `functions`: its call comes back as `function_call`. */
  legacyFunctions: boolean
  /** `parallel_tool_calls: false`: only the first tool call of a reply is kept (Ollama cannot be told). */
  parallelToolCalls: boolean
}

export type Completion = { id: string; created: number; model: string } & ReplyOptions

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'function_call'

type OpenAiToolCall = { index: number; id: string; type: 'function'; function: { name: string; arguments: string } }

type TokenLogprob = { token: string; logprob: number; bytes: number[] | null }

/** One token's log probability in OpenAI's shape (ChatCompletionTokenLogprob). */
export type OpenAiLogprob = TokenLogprob & { top_logprobs: TokenLogprob[] }

const encoder = new TextEncoder()

/**
 * A token as OpenAI states it. Ollama sends the token's UTF-8 bytes (it leaves them out for an
 * empty token, some builds always: then they are the token's own); a log probability that is
 * missing or not finite is OpenAI's -9999 ("very unlikely").
 */
function tokenLogprob(entry: Partial<Logprob> & { bytes?: unknown }): TokenLogprob {
  const token = typeof entry.token === 'string' ? entry.token : ''
  const bytes = Array.isArray(entry.bytes) && entry.bytes.every((byte) => Number.isInteger(byte)) ? (entry.bytes as number[]) : [...encoder.encode(token)]
  const logprob = typeof entry.logprob === 'number' && Number.isFinite(entry.logprob) ? entry.logprob : -9999
  return { token, logprob, bytes }
}

/** Ollama's logprobs of one message as OpenAI's `logprobs.content` entries. */
export function logprobsOf(entries: unknown): OpenAiLogprob[] {
  if (!Array.isArray(entries)) return []
  return entries
    .filter((entry): entry is Logprob => entry !== null && typeof entry === 'object')
    .map((entry) => ({
      ...tokenLogprob(entry),
      top_logprobs: Array.isArray(entry.top_logprobs)
        ? entry.top_logprobs.filter((top) => top !== null && typeof top === 'object').map(tokenLogprob)
        : [],
    }))
}

/**
 * A time-ordered id (UUIDv7, hex): the request log's index on completion ids then grows at its
 * end. Random ids land all over it, which cost ~30 µs a row once it outgrew SQLite's page cache.
 */
export function newCompletion(model: string, options: ReplyOptions): Completion {
  return { id: `chatcmpl-${Bun.randomUUIDv7('hex').replaceAll('-', '')}`, created: Math.floor(Date.now() / 1000), model, ...options }
}

export const usageOf = (final: ChatResponse | undefined) => usageFrom(tokenCount(final?.prompt_eval_count), tokenCount(final?.eval_count))

/** A usage object in OpenAI's names and their camelCase twins. */
export function usageFrom(prompt: number, completion: number) {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: prompt + completion,
  }
}

/** OpenAI sends tool arguments as JSON text; Ollama sends an object (some builds, text already). */
const argumentsText = (args: unknown) => (typeof args === 'string' ? args : JSON.stringify(args ?? {}))

function finishReasonOf(doneReason: string | undefined, calledTools: boolean, legacyFunctions: boolean): FinishReason {
  if (calledTools) return legacyFunctions ? 'function_call' : 'tool_calls'
  return doneReason === 'length' ? 'length' : 'stop'
}

/**
 * Reads Ollama's messages in order and says what to send: the deltas of a stream, or the
 * pieces of one reply. Ollama sends each tool call whole, with its arguments as an object, and
 * the logprobs of a message's tokens beside it (`logprobs`, next to `message`).
 */
export class Translator {
  content = ''
  reasoning = ''
  toolCalls: OpenAiToolCall[] = []
  /** Every token's log probability so far, when the client asked for them. */
  logprobs: OpenAiLogprob[] = []
  final: ChatResponse | undefined
  /** Upstream messages read so far. */
  messages = 0
  /** The conversation the reply is kept in (src/conversations/): said on the first chunk only, then cleared. */
  conversationId: string | undefined
  private started = false
  /** The logprobs of the message `push` read last, for its chunk. */
  private pendingLogprobs: OpenAiLogprob[] | undefined

  private readonly head: string
  private readonly tail: string

  /** `index`: which of the request's choices (`n`) this one is. */
  constructor(
    readonly completion: Completion,
    readonly index = 0,
  ) {
    const { id, created, model, includeUsage } = completion
    this.head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":${index},"delta":`
    this.tail = `,"finish_reason":null,"finishReason":null}]${includeUsage ? ',"usage":null' : ''}}`
  }

  get finishReason(): FinishReason {
    return finishReasonOf(this.final?.done_reason, this.toolCalls.length > 0, this.completion.legacyFunctions)
  }

  /**
   * Records one upstream message and returns its stream delta: undefined when it adds nothing,
   * `{}` when it carries only logprobs (Ollama sends those while it holds back text it is parsing).
   */
  push(message: ChatResponse): Record<string, unknown> | undefined {
    if (message.done) this.final = message
    else this.messages++
    const { content, thinking, tool_calls: calls } = message.message ?? {}
    const delta: Record<string, unknown> = {}
    this.pendingLogprobs = undefined
    if (this.completion.logprobs) {
      const logprobs = logprobsOf(message.logprobs)
      if (logprobs.length) {
        this.logprobs.push(...logprobs)
        this.pendingLogprobs = logprobs
      }
    }
    if (!this.started) {
      this.started = true
      delta.role = 'assistant'
      delta.content = ''
    }
    if (thinking) {
      this.reasoning += thinking
      delta.reasoning = thinking
    }
    if (content) {
      this.content += content
      delta.content = content
    }
    if (calls?.length) this.addToolCalls(calls, delta)
    return Object.keys(delta).length || this.pendingLogprobs ? delta : undefined
  }

  /**
   * Ollama's calls, each added whole. With `parallel_tool_calls: false` only a reply's first call
   * is kept, and a legacy client (one call a reply) gets only the first as its `function_call`.
   */
  private addToolCalls(calls: (ToolCall & { id?: string })[], delta: Record<string, unknown>) {
    const { parallelToolCalls, legacyFunctions } = this.completion
    const room = parallelToolCalls && !legacyFunctions ? calls.length : Math.max(0, 1 - this.toolCalls.length)
    const added = calls.slice(0, room).map((call) => this.addToolCall(call))
    if (!added.length) return
    if (legacyFunctions) delta.function_call = added[0]!.function
    else delta.tool_calls = added
  }

  private addToolCall(call: ToolCall & { id?: string }): OpenAiToolCall {
    const index = this.toolCalls.length
    const mapped: OpenAiToolCall = {
      index,
      id: call.id || `call_${this.completion.id.slice(-12)}_${index}`,
      type: 'function',
      function: { name: call.function.name, arguments: argumentsText(call.function.arguments) },
    }
    this.toolCalls.push(mapped)
    return mapped
  }

  /**
   * One `chat.completion.chunk` carrying a delta (and the logprobs of the message it came
   * from), as JSON: the hot path, where only the delta is serialised.
   */
  chunk(delta: Record<string, unknown>): string {
    const logprobs = this.pendingLogprobs ? `,"logprobs":${JSON.stringify({ content: this.pendingLogprobs, refusal: null })}` : ',"logprobs":null'
    this.pendingLogprobs = undefined
    if (this.conversationId === undefined) return this.head + JSON.stringify(delta) + logprobs + this.tail
    const tagged = `{"conversationId":${JSON.stringify(this.conversationId)},${this.head.slice(1)}`
    this.conversationId = undefined
    return tagged + JSON.stringify(delta) + logprobs + this.tail
  }

  /** The stream's last events: the finish chunk (with usage, unless the client asked for the separate usage chunk). */
  closingChunks(): string[] {
    const { id, created, model, includeUsage } = this.completion
    const usage = usageOf(this.final)
    const reason = this.finishReason
    const finish = (extra: object) =>
      JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: this.index, delta: {}, logprobs: null, finish_reason: reason, finishReason: reason }],
        ...extra,
      })
    if (!includeUsage) return [finish({ usage })]
    return [finish({ usage: null }), JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })]
  }

  /** This choice of a `chat.completion`. */
  choice() {
    const calledTools = this.toolCalls.length > 0
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: calledTools && !this.content ? null : this.content,
      refusal: null,
    }
    if (this.reasoning) message.reasoning = this.reasoning
    if (calledTools && this.completion.legacyFunctions) message.function_call = this.toolCalls[0]!.function
    else if (calledTools) message.tool_calls = this.toolCalls.map(({ index: _, ...call }) => call)
    const reason = this.finishReason
    const logprobs = this.completion.logprobs ? { content: this.logprobs, refusal: null } : null
    return { index: this.index, message, logprobs, finish_reason: reason, finishReason: reason }
  }

  /** The whole reply as one `chat.completion`. */
  reply() {
    return replyOf([this])
  }
}

/** The `chat.completion` of one or more choices (`n`), its usage the sum of theirs. */
export function replyOf(translators: Translator[]) {
  const { id, created, model } = translators[0]!.completion
  const prompt = translators.reduce((sum, { final }) => sum + tokenCount(final?.prompt_eval_count), 0)
  const completion = translators.reduce((sum, { final }) => sum + tokenCount(final?.eval_count), 0)
  return {
    id,
    object: 'chat.completion' as const,
    created,
    model,
    choices: translators.map((translator) => translator.choice()),
    usage: usageFrom(prompt, completion),
  }
}
