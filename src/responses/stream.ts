// The Responses API's stream (a StreamDialect of src/chat/service.ts): `response.created` and
// `response.in_progress`, then each output item as it comes — reasoning (`response.reasoning_text.*`),
// the message (`response.content_part.*`, `response.output_text.*`), each function call
// (`response.function_call_arguments.*`, whole: Ollama sends a call at once) — between
// `response.output_item.added` and `.done`; then `response.completed` (`response.incomplete` when
// cut by max_output_tokens), or `response.failed` and an `error` event. Every event carries the
// next `sequence_number`. One per request: it holds which item is open and what was said.
import type { StreamDialect } from '../chat/service'
import type { Translator } from '../chat/to-openai'
import type { HttpError } from '../http/errors'
import { newItemId, type Item } from './to-chat'
import {
  endStatusOf,
  finishedResponse,
  functionCallItem,
  messageItem,
  outputText,
  reasoningItem,
  startedResponse,
  type ResponseHead,
  type ResponseObject,
} from './to-response'

type OpenItem = { kind: 'reasoning' | 'message'; id: string; index: number; text: string }

export class ResponseEvents implements StreamDialect {
  private sequence = 0
  private started = false
  private open: OpenItem | undefined
  private readonly output: Item[] = []
  /** Thinking messages read: each one token (Ollama streams a token a message), the usage's reasoning tokens. */
  reasoningTokens = 0
  /** The response as it ended: set by `finish` or `failure`, then stored (./service.ts). */
  final: ResponseObject | undefined
  /** The events that end the last item, made with `final`, written by `closing`. */
  private pendingEnd = ''

  constructor(
    private readonly head: ResponseHead,
    private readonly translator: Translator,
  ) {}

  private event(type: string, fields: Record<string, unknown>) {
    return `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: this.sequence++ })}\n\n`
  }

  /** `response.created` and `response.in_progress`, before the first item. */
  private start() {
    if (this.started) return ''
    this.started = true
    const response = startedResponse(this.head)
    return this.event('response.created', { response }) + this.event('response.in_progress', { response })
  }

  private openItem(kind: OpenItem['kind']) {
    let events = this.close()
    const item: OpenItem = { kind, id: newItemId(kind === 'reasoning' ? 'rs' : 'msg'), index: this.output.length, text: '' }
    this.open = item
    const added = kind === 'reasoning' ? reasoningItem(item.id, '', 'in_progress') : messageItem(item.id, undefined, 'in_progress')
    this.output.push(added)
    events += this.event('response.output_item.added', { output_index: item.index, item: added })
    const part = kind === 'reasoning' ? { type: 'reasoning_text', text: '' } : outputText('')
    events += this.event('response.content_part.added', { item_id: item.id, output_index: item.index, content_index: 0, part })
    return events
  }

  /** Ends the open item: its text's `.done`, its part's, its own; `status` says whether it was whole. */
  private close(status: 'completed' | 'incomplete' = 'completed') {
    const item = this.open
    if (!item) return ''
    this.open = undefined
    const at = { item_id: item.id, output_index: item.index, content_index: 0 }
    let events: string
    let done: Item
    if (item.kind === 'reasoning') {
      events = this.event('response.reasoning_text.done', { ...at, text: item.text })
      events += this.event('response.content_part.done', { ...at, part: { type: 'reasoning_text', text: item.text } })
      done = reasoningItem(item.id, item.text, status)
    } else {
      events = this.event('response.output_text.done', { ...at, text: item.text, logprobs: [] })
      events += this.event('response.content_part.done', { ...at, part: outputText(item.text) })
      done = messageItem(item.id, item.text, status)
    }
    this.output[item.index] = done
    return events + this.event('response.output_item.done', { output_index: item.index, item: done })
  }

  events(delta: Record<string, unknown>): string {
    let events = this.start()
    if (typeof delta.reasoning === 'string' && delta.reasoning) {
      this.reasoningTokens++
      if (this.open?.kind !== 'reasoning') events += this.openItem('reasoning')
      this.open!.text += delta.reasoning
      events += this.event('response.reasoning_text.delta', { item_id: this.open!.id, output_index: this.open!.index, content_index: 0, delta: delta.reasoning })
    }
    if (typeof delta.content === 'string' && delta.content) {
      if (this.open?.kind !== 'message') events += this.openItem('message')
      this.open!.text += delta.content
      events += this.event('response.output_text.delta', { item_id: this.open!.id, output_index: this.open!.index, content_index: 0, delta: delta.content, logprobs: [] })
    }
    const calls = delta.tool_calls as Translator['toolCalls'] | undefined
    if (calls?.length) events += this.calls(calls)
    return events
  }

  /** Each call is whole when it arrives: added, its arguments in one delta, done. */
  private calls(calls: Translator['toolCalls']) {
    let events = this.close()
    for (const call of calls) {
      const id = newItemId('fc')
      const index = this.output.length
      this.output.push(functionCallItem(id, call, 'in_progress'))
      events += this.event('response.output_item.added', { output_index: index, item: functionCallItem(id, call, 'in_progress') })
      events += this.event('response.function_call_arguments.delta', { item_id: id, output_index: index, delta: call.function.arguments })
      events += this.event('response.function_call_arguments.done', { item_id: id, output_index: index, name: call.function.name, arguments: call.function.arguments })
      const done = functionCallItem(id, call, 'completed')
      this.output[index] = done
      events += this.event('response.output_item.done', { output_index: index, item: done })
    }
    return events
  }

  /**
   * The response as it ended, made once the whole reply is read (before its end is written, so that
   * it is stored by then). A reply with nothing at all still has its (empty) message.
   */
  finish(): ResponseObject {
    if (this.final) return this.final
    this.pendingEnd = this.start()
    if (!this.output.length) this.pendingEnd += this.openItem('message')
    this.pendingEnd += this.close(endStatusOf(this.translator))
    this.final = finishedResponse(this.head, this.output, this.translator, this.reasoningTokens)
    return this.final
  }

  closing(): string {
    const response = this.finish()
    const type = response.status === 'incomplete' ? 'response.incomplete' : 'response.completed'
    return this.pendingEnd + this.event(type, { response })
  }

  /**
   * A failure mid-stream: the open item ends incomplete, then `response.failed` (for clients that
   * read the response's status) and `error` (which OpenAI's SDKs raise as an APIError).
   */
  failure(error: HttpError): string {
    let events = this.start() + this.close('incomplete')
    this.final = finishedResponse(this.head, this.output, this.translator, this.reasoningTokens, error)
    events += this.event('response.failed', { response: this.final })
    return events + this.event('error', { code: error.options.code ?? 'server_error', message: error.message, param: null })
  }
}
