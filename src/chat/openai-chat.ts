// A chat passed to a server that speaks OpenAI's API (OPENAI_UPSTREAMS). The client's request
// goes on as it came (it is OpenAI's already), always streamed with usage; the server's SSE
// chunks come back as the Ollama chat messages the rest of the chat reads (translator, request
// log, conversations, cache), so one ledger serves both kinds of host. (Legacy `function_call`
// deltas of the server are not read: it is asked with tools.)
import type { ChatRequest as OllamaChatRequest, ChatResponse } from 'ollama/browser'
import type { Post } from './openai-upstream'
import type { ChatRequest } from './schemas'

/**
 * Fields the server is not asked about: ours, what the gateway does itself (`n`: one call per
 * choice; `metadata`: the log row's), and the legacy `functions`, sent as the tools they map to.
 */
const NOT_PASSED = ['conversationId', 'n', 'metadata', 'functions', 'function_call', 'max_completion_tokens']

/**
 * The request for the server: the client's, streamed with usage, its output capped and its seed
 * set per choice as for Ollama (`mapped`), legacy functions as tools.
 */
export function toOpenAiChat(body: ChatRequest, mapped: OllamaChatRequest): Record<string, unknown> {
  const request: Record<string, unknown> = { ...body, stream: true, stream_options: { include_usage: true } }
  for (const field of NOT_PASSED) delete request[field]
  request.max_tokens = mapped.options?.num_predict
  if (mapped.options?.seed !== undefined) request.seed = mapped.options.seed
  if (body.functions != null) {
    if (mapped.tools?.length) request.tools = mapped.tools
    request.tool_choice = mapped.tools?.length ? 'auto' : 'none'
  }
  return request
}

/** Posts the chat and reads the server's answer as Ollama chat messages. */
export const openAiChat = (body: ChatRequest, mapped: OllamaChatRequest) => async (post: Post) =>
  new ChatChunkReader(body.model, (await post('/chat/completions', toOpenAiChat(body, mapped))).body!.getReader())

type Chunk = {
  choices?: {
    delta?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null; tool_calls?: ToolCallDelta[] }
    finish_reason?: string | null
    /** OpenAI's entries have Ollama's shape: token, logprob, bytes, top_logprobs. */
    logprobs?: { content?: unknown[] | null } | null
  }[]
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null
  error?: { message?: string } | string
}

/** Tool calls one reply may make; a server that names more is not believed past them. */
const MAX_TOOL_CALLS = 128

type ToolCallDelta = { index?: number; id?: string; function?: { name?: string; arguments?: string } }

/**
 * OpenAI's SSE chunks (`data: {…}` events, then `data: [DONE]`) as Ollama chat messages, a
 * network read at a time like NdjsonReader: content and reasoning as they come; tool calls,
 * which arrive in pieces, whole once the reply finishes (Ollama sends them whole); and a final
 * `done` message with the finish reason and the token counts of the usage chunk.
 */
export class ChatChunkReader {
  private buffer = ''
  private readonly decoder = new TextDecoder()
  /** The tool calls so far, by their index (a piece without one continues the last call). */
  private readonly calls = new Map<number, { id?: string; name: string; arguments: string }>()
  private finishReason: string | undefined
  private usage: Chunk['usage']
  private ended = false

  constructor(
    private readonly model: string,
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
  ) {}

  async next(): Promise<unknown[] | undefined> {
    while (!this.ended) {
      const { done, value } = await this.reader.read()
      // At the end, the last event may lack its blank line: it is read all the same.
      this.buffer += done ? this.decoder.decode() : this.decoder.decode(value, { stream: true })
      const events = this.buffer.split(/\r?\n\r?\n/)
      this.buffer = done ? '' : events.pop()!
      const messages: unknown[] = []
      for (const event of events) {
        const data = event
          .split(/\r?\n/)
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n')
        if (!data) continue
        if (data === '[DONE]') {
          this.ended = true
          messages.push(...this.finish())
          break
        }
        messages.push(...this.messagesOf(data))
      }
      if (done && !this.ended) {
        // Some servers end without [DONE] after the finish reason; a stream cut before it ends
        // without a final message, which the reader's caller reports.
        this.ended = true
        if (this.finishReason !== undefined) messages.push(...this.finish())
      }
      if (messages.length) return messages
    }
    return undefined
  }

  private message(fields: Partial<ChatResponse['message']>, done = false): Partial<ChatResponse> {
    return { model: this.model, created_at: new Date(), message: { role: 'assistant', content: '', ...fields }, done }
  }

  private messagesOf(data: string): unknown[] {
    let chunk: Chunk
    try {
      chunk = JSON.parse(data)
    } catch {
      return [{ error: 'the server sent an event that is not JSON' }]
    }
    if (chunk.error) return [{ error: typeof chunk.error === 'string' ? chunk.error : (chunk.error.message ?? 'the server reported an error') }]
    if (chunk.usage) this.usage = chunk.usage
    const choice = chunk.choices?.[0]
    if (!choice) return []
    if (choice.finish_reason) this.finishReason = choice.finish_reason
    const delta = choice.delta ?? {}
    for (const piece of delta.tool_calls ?? []) {
      const last = [...this.calls.keys()].at(-1)
      const at = piece.index ?? (last === undefined || piece.id || piece.function?.name ? this.calls.size : last)
      if (!this.calls.has(at)) {
        if (this.calls.size >= MAX_TOOL_CALLS) continue
        this.calls.set(at, { name: '', arguments: '' })
      }
      const call = this.calls.get(at)!
      if (piece.id) call.id = piece.id
      call.name += piece.function?.name ?? ''
      call.arguments += piece.function?.arguments ?? ''
    }
    const content = delta.content ?? ''
    const thinking = delta.reasoning_content ?? delta.reasoning ?? ''
    const logprobs = choice.logprobs?.content
    if (!content && !thinking && !logprobs?.length) return []
    const message = this.message(thinking ? { content, thinking } : { content })
    return [logprobs?.length ? { ...message, logprobs } : message]
  }

  private finish(): unknown[] {
    const messages: unknown[] = []
    if (this.calls.size)
      messages.push(
        this.message({
          tool_calls: [...this.calls.values()].map((call) => ({ id: call.id, function: { name: call.name, arguments: call.arguments } })) as never,
        }),
      )
    messages.push({
      ...this.message({}, true),
      done_reason: this.finishReason === 'length' ? 'length' : 'stop',
      prompt_eval_count: this.usage?.prompt_tokens,
      eval_count: this.usage?.completion_tokens,
    })
    return messages
  }
}
