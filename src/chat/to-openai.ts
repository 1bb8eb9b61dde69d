// Turns Ollama's chat messages into OpenAI's objects: `chat.completion.chunk` events for a
// stream and one `chat.completion` for a plain reply, each with the camelCase twins
// (`finishReason`, `usage.promptTokens`…) that the studio frontend reads.
import type { ChatResponse, ToolCall } from 'ollama/browser'
import { tokenCount } from '../telemetry/facts'

export type Completion = { id: string; created: number; model: string; includeUsage: boolean }

export type FinishReason = 'stop' | 'length' | 'tool_calls'

type OpenAiToolCall = { index: number; id: string; type: 'function'; function: { name: string; arguments: string } }

/**
 * A time-ordered id (UUIDv7, hex): the request log's index on completion ids then grows at its
 * end. Random ids land all over it, which cost ~30 µs a row once it outgrew SQLite's page cache.
 */
export function newCompletion(model: string, includeUsage: boolean): Completion {
  return { id: `chatcmpl-${Bun.randomUUIDv7('hex').replaceAll('-', '')}`, created: Math.floor(Date.now() / 1000), model, includeUsage }
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

function finishReasonOf(doneReason: string | undefined, calledTools: boolean): FinishReason {
  if (calledTools) return 'tool_calls'
  return doneReason === 'length' ? 'length' : 'stop'
}

/**
 * Reads Ollama's messages in order and says what to send: the deltas of a stream, or the
 * pieces of one reply. Ollama sends each tool call whole, with its arguments as an object.
 */
export class Translator {
  content = ''
  reasoning = ''
  toolCalls: OpenAiToolCall[] = []
  final: ChatResponse | undefined
  /** Upstream messages read so far. */
  messages = 0
  /** The conversation the reply is kept in (src/conversations/): said on the first chunk only, then cleared. */
  conversationId: string | undefined
  private started = false

  private readonly head: string
  private readonly tail: string

  constructor(readonly completion: Completion) {
    const { id, created, model, includeUsage } = completion
    this.head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"delta":`
    this.tail = `,"logprobs":null,"finish_reason":null,"finishReason":null}]${includeUsage ? ',"usage":null' : ''}}`
  }

  get finishReason(): FinishReason {
    return finishReasonOf(this.final?.done_reason, this.toolCalls.length > 0)
  }

  /** Records one upstream message and returns its stream delta (undefined when it adds nothing). */
  push(message: ChatResponse): Record<string, unknown> | undefined {
    if (message.done) this.final = message
    else this.messages++
    const { content, thinking, tool_calls: calls } = message.message ?? {}
    const delta: Record<string, unknown> = {}
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
    if (calls?.length) delta.tool_calls = calls.map((call) => this.addToolCall(call))
    return Object.keys(delta).length ? delta : undefined
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

  /** One `chat.completion.chunk` carrying a delta, as JSON (the hot path: only the delta is serialised). */
  chunk(delta: Record<string, unknown>): string {
    if (this.conversationId === undefined) return this.head + JSON.stringify(delta) + this.tail
    const tagged = `{"conversationId":${JSON.stringify(this.conversationId)},${this.head.slice(1)}`
    this.conversationId = undefined
    return tagged + JSON.stringify(delta) + this.tail
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
        choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: reason, finishReason: reason }],
        ...extra,
      })
    if (!includeUsage) return [finish({ usage })]
    return [finish({ usage: null }), JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })]
  }

  /** The whole reply as one `chat.completion`. */
  reply() {
    const { id, created, model } = this.completion
    const calledTools = this.toolCalls.length > 0
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: calledTools && !this.content ? null : this.content,
      refusal: null,
    }
    if (this.reasoning) message.reasoning = this.reasoning
    if (calledTools) message.tool_calls = this.toolCalls.map(({ index: _, ...call }) => call)
    const reason = this.finishReason
    return {
      id,
      object: 'chat.completion' as const,
      created,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: reason, finishReason: reason }],
      usage: usageOf(this.final),
    }
  }
}
