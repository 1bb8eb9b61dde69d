// The chat pipeline's reply as OpenAI's Responses `response` object: its output items (reasoning,
// the assistant's message with one output_text part, function calls), status (`incomplete` when
// cut by max_output_tokens), usage with reasoning tokens, and the request's own settings repeated
// as OpenAI repeats them. `output_text` is not sent: it is the SDKs' convenience, which they add.
import type { ChatResponse } from 'ollama/browser'
import type { HttpError } from '../http/errors'
import type { Translator } from '../chat/to-openai'
import { tokenCount } from '../telemetry/facts'
import type { CreateResponseRequest } from './schemas'
import { newItemId, type Item, type Settings } from './to-chat'

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed'

/** A response id made from its completion's (the request log's completion id): the two are found from each other. */
export const responseIdOf = (completionId: string) => `resp_${completionId.replace(/^chatcmpl-/, '')}`

/** The parts of the response object that the request decides: the same from `response.created` to the end. */
export type ResponseHead = ReturnType<typeof responseHead>

export function responseHead(id: string, body: CreateResponseRequest, settings: Settings, conversationId: string | undefined) {
  return {
    id,
    object: 'response' as const,
    created_at: Math.floor(Date.now() / 1000),
    model: body.model,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: (body.metadata as Record<string, string> | undefined) ?? {},
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    conversation: conversationId ? { id: conversationId } : null,
    reasoning: { effort: settings.effort, summary: null },
    store: body.store ?? true,
    // Not set: the model's own default applies (Ollama's, per model), which the gateway does not know.
    temperature: body.temperature ?? null,
    top_p: body.top_p ?? null,
    text: { format: settings.textFormat },
    tool_choice: settings.toolChoice,
    tools: settings.tools,
    truncation: 'disabled' as const,
    ...(body.user != null ? { user: body.user } : {}),
  }
}

/** Usage in the Responses API's names. Ollama counts thinking within eval_count; `reasoningTokens` is the part the reply streamed as thinking. */
export function usageOf(final: ChatResponse | undefined, reasoningTokens: number) {
  const input = tokenCount(final?.prompt_eval_count)
  const output = tokenCount(final?.eval_count)
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: Math.min(reasoningTokens, output) },
    total_tokens: input + output,
  }
}

export const reasoningItem = (id: string, text: string, status: 'in_progress' | 'completed' | 'incomplete') => ({
  id,
  type: 'reasoning',
  summary: [],
  content: text ? [{ type: 'reasoning_text', text }] : [],
  status,
})

export const outputText = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] })

export const messageItem = (id: string, text: string | undefined, status: 'in_progress' | 'completed' | 'incomplete') => ({
  id,
  type: 'message',
  role: 'assistant',
  status,
  content: text === undefined ? [] : [outputText(text)],
})

export const functionCallItem = (id: string, call: Translator['toolCalls'][number], status: 'in_progress' | 'completed') => ({
  id,
  type: 'function_call',
  call_id: call.id,
  name: call.function.name,
  arguments: status === 'in_progress' ? '' : call.function.arguments,
  status,
})

/** The reply's output items in order: reasoning, the message, the calls (a reply that is all calls has no message). */
export function outputOf(translator: Translator, status: 'completed' | 'incomplete'): Item[] {
  const items: Item[] = []
  if (translator.reasoning) items.push(reasoningItem(newItemId('rs'), translator.reasoning, status))
  if (translator.content || !translator.toolCalls.length) items.push(messageItem(newItemId('msg'), translator.content, status))
  for (const call of translator.toolCalls) items.push(functionCallItem(newItemId('fc'), call, 'completed'))
  return items
}

/** A reply that stopped at its output limit is incomplete (OpenAI's `max_output_tokens`). */
export const endStatusOf = (translator: Translator): 'completed' | 'incomplete' => (translator.finishReason === 'length' ? 'incomplete' : 'completed')

/** The whole response once the reply has ended (or failed: `error`). */
export function finishedResponse(head: ResponseHead, output: Item[], translator: Translator, reasoningTokens: number, failure?: HttpError) {
  const status: ResponseStatus = failure ? 'failed' : endStatusOf(translator)
  return {
    ...head,
    status,
    completed_at: status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: failure ? { code: 'server_error', message: failure.message } : null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    output,
    usage: usageOf(translator.final, reasoningTokens),
  }
}

/** The response as `response.created` and `response.in_progress` show it: nothing said yet. */
export const startedResponse = (head: ResponseHead) => ({
  ...head,
  status: 'in_progress' as ResponseStatus,
  completed_at: null,
  error: null,
  incomplete_details: null,
  output: [] as Item[],
})

export type ResponseObject = ReturnType<typeof finishedResponse>
