// The chat pipeline's reply in Anthropic's shapes: the `message` object of a plain reply, and
// the Server-Sent Events of a stream, written as a StreamDialect (src/chat/service.ts) in
// Anthropic's exact order — message_start, ping, then for each content block (thinking, text,
// each tool_use) content_block_start / content_block_delta… / content_block_stop, then
// message_delta (stop reason, usage) and message_stop; a failure mid-stream is an `error` event.
import type { collectCompletion, StreamDialect } from '../chat/service'
import type { FinishReason, Translator } from '../chat/to-openai'
import { errorBody } from '../http/errors'
import { tokenCount } from '../telemetry/facts'
import type { ReplyOptions } from './to-chat'

export type StopReason = 'end_turn' | 'max_tokens' | 'tool_use'

/**
 * Ollama ends a reply `stop` whether the model finished or met a stop sequence (it says no
 * more), so a reply that stopped is `end_turn`: never `stop_sequence`.
 */
const STOP_REASONS: Record<FinishReason, StopReason> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', function_call: 'tool_use' }

/** The message id: the completion's own (the request log's `completionId`), under Anthropic's prefix. */
export const messageIdOf = (completionId: string) => `msg_${completionId.replace(/^chatcmpl-/, '')}`

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/** A tool call's arguments (JSON text) as Anthropic's `input` object; arguments that are no JSON object are an empty input. */
export function inputOf(args: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(args)
    if (isObject(parsed)) return parsed
  } catch {
    // A model that wrote broken JSON: Anthropic's input is an object, and nothing of it can be read.
  }
  return {}
}

/** Token counts are Ollama's own (its prompt_eval_count and eval_count). */
const usageOf = (input: number, output: number) => ({ input_tokens: input, output_tokens: output })

/** No signature: the gateway does not check thinking passed back (it drops it, ./to-chat.ts). */
const thinkingBlock = (thinking: string) => ({ type: 'thinking', thinking, signature: '' })

type Reply = Awaited<ReturnType<typeof collectCompletion>>
type ReplyMessage = { content: string | null; reasoning?: string; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }

/** A whole reply (`chat.completion`) as Anthropic's `message`: thinking, text, then each tool use. */
export function messageOf(reply: Reply, options: ReplyOptions) {
  const choice = reply.choices[0]!
  const message = choice.message as ReplyMessage
  const content: Record<string, unknown>[] = []
  if (message.reasoning) content.push(thinkingBlock(options.omitThinking ? '' : message.reasoning))
  if (message.content) content.push({ type: 'text', text: message.content })
  for (const call of message.tool_calls ?? []) content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: inputOf(call.function.arguments) })
  return {
    id: messageIdOf(reply.id),
    type: 'message' as const,
    role: 'assistant' as const,
    model: reply.model,
    content,
    stop_reason: STOP_REASONS[choice.finish_reason],
    stop_sequence: null,
    usage: usageOf(reply.usage.prompt_tokens, reply.usage.completion_tokens),
  }
}

const sse = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`

/** The hot path: one text or thinking delta, only its text serialised. */
const textDelta = (index: number, kind: 'text' | 'thinking', text: string) =>
  `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"${kind}_delta","${kind}":${JSON.stringify(text)}}}\n\n`

/**
 * The events of one streamed reply. It keeps which block is open: a thinking or text block stays
 * open while its deltas come, and is stopped when another kind starts; each tool use is a block
 * of its own, its input sent whole in one `input_json_delta` (Ollama sends each call whole).
 * `input_tokens` is 0 in message_start (Ollama counts the prompt only at the end): message_delta
 * carries both counts.
 */
export function messageEvents(options: ReplyOptions): StreamDialect {
  let started = false
  let open: 'thinking' | 'text' | undefined
  let index = -1

  const start = (translator: Translator) => {
    if (started) return ''
    started = true
    const { id, model } = translator.completion
    const message = { id: messageIdOf(id), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: usageOf(0, 0) }
    return sse('message_start', { type: 'message_start', message }) + sse('ping', { type: 'ping' })
  }
  const stop = () => {
    if (!open) return ''
    open = undefined
    return sse('content_block_stop', { type: 'content_block_stop', index })
  }
  const begin = (block: Record<string, unknown>) => stop() + sse('content_block_start', { type: 'content_block_start', index: ++index, content_block: block })

  return {
    events(delta, translator) {
      let out = start(translator)
      const { reasoning, content, tool_calls: calls } = delta as { reasoning?: string; content?: string; tool_calls?: ReplyMessage['tool_calls'] }
      if (reasoning) {
        if (open !== 'thinking') {
          out += begin(thinkingBlock(''))
          open = 'thinking'
        }
        if (!options.omitThinking) out += textDelta(index, 'thinking', reasoning)
      }
      if (content) {
        if (open !== 'text') {
          out += begin({ type: 'text', text: '' })
          open = 'text'
        }
        out += textDelta(index, 'text', content)
      }
      for (const call of calls ?? []) {
        out += begin({ type: 'tool_use', id: call.id, name: call.function.name, input: {} })
        out += sse('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(inputOf(call.function.arguments)) },
        })
        out += sse('content_block_stop', { type: 'content_block_stop', index })
      }
      return out
    },
    closing(translator) {
      const { final } = translator
      return (
        start(translator) +
        stop() +
        sse('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: STOP_REASONS[translator.finishReason], stop_sequence: null },
          usage: usageOf(tokenCount(final?.prompt_eval_count), tokenCount(final?.eval_count)),
        }) +
        sse('message_stop', { type: 'message_stop' })
      )
    },
    failure: (error) => sse('error', errorBody('/v1/messages', error.status, error.message, error.options)),
  }
}
