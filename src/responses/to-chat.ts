// Turns a Responses API request into the OpenAI-shaped chat request the chat pipeline runs
// (src/chat/service.ts): input items into chat messages (a message, a run of function_call items
// as one assistant message's tool_calls, a function_call_output as a tool message), `instructions`
// into a system message first, function tools, tool_choice, text.format, reasoning.effort and the
// sampling fields into their chat twins. What the schema accepted as plain JSON is checked here,
// naming the Responses field (`input.1.content.0.image_url`), never echoing what was sent. Input
// items are also given ids here, as OpenAI's input-items list shows them.
import type { ChatMessage, ChatRequest } from '../chat/schemas'
import { REASONING_EFFORTS } from '../chat/schemas'
import { HttpError } from '../http/errors'
import type { CreateResponseRequest } from './schemas'

/** One input or output item in the Responses API's shape, with its id. */
export type Item = Record<string, unknown> & { type: string; id: string }

const invalid = (param: string, message: string) =>
  new HttpError(400, `Invalid body field '${param}': ${message}`, { param, code: 'invalid_value' })

const unsupported = (param: string, message: string) =>
  new HttpError(400, `The parameter '${param}' is not supported: ${message}`, { param, code: 'unsupported_parameter' })

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/** A new item id with OpenAI's prefix for its kind (`msg`, `fc`, `rs`…): time-ordered, unique. */
export const newItemId = (prefix: string) => `${prefix}_${Bun.randomUUIDv7('hex').replaceAll('-', '')}`

/** An item sent back (an earlier output) keeps its id; one without (or with an unlikely one) gets a new id. */
const idOf = (given: unknown, prefix: string) => (typeof given === 'string' && given.length > 0 && given.length <= 200 ? given : newItemId(prefix))

// Ollama takes raw base64 images; it cannot fetch remote URLs, and the gateway will not fetch them for it.
const dataUrl = /^data:image\/[\w.+-]+;base64,(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/i

const MESSAGE_ROLES = ['user', 'assistant', 'system', 'developer'] as const
type Role = (typeof MESSAGE_ROLES)[number]

const IMAGE_DETAILS = ['auto', 'low', 'high', 'original']

/** A text part of a message: `input_text` from the client, `output_text` a model's earlier words. */
function textPart(part: Record<string, unknown>, at: string, role: Role) {
  if (typeof part.text !== 'string') throw invalid(`${at}.text`, 'must be a string')
  return role === 'assistant'
    ? { type: 'output_text', text: part.text, annotations: [], logprobs: [] }
    : { type: 'input_text', text: part.text }
}

function imagePart(part: Record<string, unknown>, at: string, role: Role) {
  if (role === 'assistant') throw invalid(`${at}.type`, "an assistant message holds output_text parts; images go in a user message")
  if (part.file_id != null) throw unsupported(`${at}.file_id`, 'there is no file store; send the image as a data URL in image_url')
  if (typeof part.image_url !== 'string' || !dataUrl.test(part.image_url.replace(/\s+/g, '')))
    throw invalid(`${at}.image_url`, 'images must be data URLs (data:image/…;base64,…); remote image URLs are not fetched')
  if (part.detail != null && !IMAGE_DETAILS.includes(part.detail as string)) throw invalid(`${at}.detail`, `must be one of ${IMAGE_DETAILS.join(', ')}`)
  return { type: 'input_image', image_url: part.image_url, detail: (part.detail as string | undefined) ?? 'auto' }
}

function messageItem(item: Record<string, unknown>, at: string): Item {
  if (!MESSAGE_ROLES.includes(item.role as Role)) throw invalid(`${at}.role`, `must be one of ${MESSAGE_ROLES.join(', ')}`)
  const role = item.role as Role
  let content: Record<string, unknown>[]
  if (typeof item.content === 'string') content = [textPart({ text: item.content }, `${at}.content`, role)]
  else if (Array.isArray(item.content))
    content = item.content.map((part, j) => {
      const partAt = `${at}.content.${j}`
      if (!isObject(part)) throw invalid(partAt, 'must be a content part object')
      if (part.type === 'input_text' || part.type === 'output_text') return textPart(part, partAt, role)
      if (part.type === 'input_image') return imagePart(part, partAt, role)
      if (part.type === 'input_file') throw unsupported(`${partAt}.type`, 'input_file parts are not supported; send text or images')
      throw invalid(`${partAt}.type`, 'must be input_text, input_image or output_text')
    })
  else throw invalid(`${at}.content`, 'must be a string or an array of content parts')
  return { id: idOf(item.id, 'msg'), type: 'message', role, status: 'completed', content }
}

/** OpenAI sends tool arguments as JSON text; Ollama needs them to encode an object. */
function checkArguments(raw: unknown, param: string): string {
  if (typeof raw !== 'string') throw invalid(param, 'must be a string of JSON')
  let parsed: unknown
  try {
    parsed = raw.trim() === '' ? {} : JSON.parse(raw)
  } catch {
    throw invalid(param, 'must be valid JSON')
  }
  if (!isObject(parsed)) throw invalid(param, 'must encode a JSON object')
  return raw
}

const callId = (value: unknown, param: string) => {
  if (typeof value !== 'string' || !value || value.length > 200) throw invalid(param, 'must be a call id of 1 to 200 characters')
  return value
}

function functionCallItem(item: Record<string, unknown>, at: string): Item {
  if (typeof item.name !== 'string' || !item.name || item.name.length > 64) throw invalid(`${at}.name`, 'must be a function name of 1 to 64 characters')
  return {
    id: idOf(item.id, 'fc'),
    type: 'function_call',
    call_id: callId(item.call_id, `${at}.call_id`),
    name: item.name,
    arguments: checkArguments(item.arguments, `${at}.arguments`),
    status: 'completed',
  }
}

/** A function's result: a string, or text parts (joined for the model). */
function functionOutputItem(item: Record<string, unknown>, at: string): Item {
  const { output } = item
  let text: string
  if (typeof output === 'string') text = output
  else if (Array.isArray(output))
    text = output
      .map((part, j) => {
        if (!isObject(part) || part.type !== 'input_text' || typeof part.text !== 'string')
          throw invalid(`${at}.output.${j}`, 'must be an input_text part {type: "input_text", text}')
        return part.text
      })
      .join('\n')
  else throw invalid(`${at}.output`, 'must be a string or an array of input_text parts')
  return { id: newItemId('fco'), type: 'function_call_output', call_id: callId(item.call_id, `${at}.call_id`), output: text, status: 'completed' }
}

/** A reasoning item sent back: kept in the list of input items; the model is not shown its own past thinking. */
function reasoningItem(item: Record<string, unknown>, at: string): Item {
  const texts = (list: unknown, param: string, type: string) => {
    if (list == null) return []
    if (!Array.isArray(list)) throw invalid(param, `must be an array of ${type} parts`)
    return list.map((part, j) => {
      if (!isObject(part) || typeof part.text !== 'string') throw invalid(`${param}.${j}`, `must be a ${type} part {type: "${type}", text}`)
      return { type, text: part.text }
    })
  }
  return {
    id: idOf(item.id, 'rs'),
    type: 'reasoning',
    summary: texts(item.summary, `${at}.summary`, 'summary_text'),
    content: texts(item.content, `${at}.content`, 'reasoning_text'),
  }
}

/** The request's `input` as items with ids: a string is one user message. */
export function inputItemsOf(input: CreateResponseRequest['input']): Item[] {
  if (input === undefined) return []
  if (typeof input === 'string') return [messageItem({ role: 'user', content: input }, 'input')]
  return input.map((item, i) => {
    const at = `input.${i}`
    if (!isObject(item)) throw invalid(at, 'must be an input item object')
    // A message may leave out its type (an "easy input message": {role, content}).
    if (item.type === 'message' || (item.type === undefined && 'role' in item)) return messageItem(item, at)
    if (item.type === 'function_call') return functionCallItem(item, at)
    if (item.type === 'function_call_output') return functionOutputItem(item, at)
    if (item.type === 'reasoning') return reasoningItem(item, at)
    if (item.type === 'item_reference') throw unsupported(`${at}.type`, 'item references are not supported; use previous_response_id or send the items')
    throw invalid(`${at}.type`, 'must be one of message, function_call, function_call_output, reasoning')
  })
}

const textOf = (content: unknown) =>
  Array.isArray(content)
    ? content.flatMap((part) => (isObject(part) && typeof part.text === 'string' && part.type !== 'input_image' ? [part.text] : [])).join('')
    : ''

/**
 * Items (input items, or a stored response's output) as chat messages, in order. Consecutive
 * function_call items are one assistant message's tool_calls, joined to the assistant's text just
 * before them; reasoning items are left out.
 */
export function chatMessagesOf(items: Record<string, unknown>[]): ChatMessage[] {
  const messages: ChatMessage[] = []
  for (const item of items) {
    if (item.type === 'message') {
      const role = item.role as Role
      const parts = item.content as Record<string, unknown>[]
      if (role !== 'assistant' && parts.some((part) => part.type === 'input_image'))
        messages.push({
          role,
          content: parts.map((part) =>
            part.type === 'input_image'
              ? { type: 'image_url' as const, image_url: { url: part.image_url as string } }
              : { type: 'text' as const, text: part.text as string },
          ),
        })
      else messages.push({ role, content: textOf(parts) })
    } else if (item.type === 'function_call') {
      const call = { id: item.call_id as string, type: 'function' as const, function: { name: item.name as string, arguments: item.arguments as string } }
      const last = messages.at(-1)
      if (last?.role === 'assistant') (last.tool_calls ??= []).push(call)
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] })
    } else if (item.type === 'function_call_output') messages.push({ role: 'tool', tool_call_id: item.call_id as string, content: item.output as string })
  }
  return messages
}

/** A function tool in the Responses API's shape, as the response object lists it. */
export type FunctionTool = { type: 'function'; name: string; description: string | null; parameters: Record<string, unknown> | null; strict: boolean | null }

/** OpenAI's hosted tools: named when refused, so the client knows which one the gateway lacks. */
const HOSTED_TOOLS = new Set([
  'file_search', 'web_search', 'web_search_preview', 'web_search_2025_08_26', 'web_search_preview_2025_03_11', 'computer',
  'computer_use_preview', 'mcp', 'code_interpreter', 'image_generation', 'local_shell', 'shell', 'custom', 'apply_patch',
  'namespace', 'tool_search', 'programmatic_tool_calling',
])

export function functionToolsOf(tools: CreateResponseRequest['tools']): FunctionTool[] {
  return (tools ?? []).map((tool, i) => {
    const at = `tools.${i}`
    if (!isObject(tool)) throw invalid(at, 'must be a function tool {type: "function", name, parameters}')
    if (tool.type !== 'function') {
      const kind = typeof tool.type === 'string' && HOSTED_TOOLS.has(tool.type) ? `'${tool.type}' tools are` : 'this tool type is'
      throw new HttpError(400, `Invalid body field '${at}.type': only function tools are supported; ${kind} not`, {
        param: `${at}.type`,
        code: 'unsupported_tool',
      })
    }
    if (typeof tool.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(tool.name))
      throw invalid(`${at}.name`, 'must be 1 to 64 letters, digits, underscores or dashes')
    if (tool.description != null && typeof tool.description !== 'string') throw invalid(`${at}.description`, 'must be a string')
    if (tool.parameters != null && !isObject(tool.parameters)) throw invalid(`${at}.parameters`, 'must be a JSON Schema object')
    if (tool.strict != null && typeof tool.strict !== 'boolean') throw invalid(`${at}.strict`, 'must be a boolean')
    return {
      type: 'function',
      name: tool.name,
      description: (tool.description as string | undefined) ?? null,
      parameters: (tool.parameters as Record<string, unknown> | undefined) ?? null,
      strict: (tool.strict as boolean | undefined) ?? null,
    }
  })
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; name: string }

export function toolChoiceOf(choice: unknown, tools: FunctionTool[]): ToolChoice {
  if (choice == null) return 'auto'
  if (choice === 'none' || choice === 'auto' || choice === 'required') return choice
  if (isObject(choice) && choice.type === 'function') {
    if (typeof choice.name !== 'string' || !tools.some((tool) => tool.name === choice.name))
      throw invalid('tool_choice.name', "must name one of the function tools in 'tools'")
    return { type: 'function', name: choice.name }
  }
  throw invalid('tool_choice', "must be 'none', 'auto', 'required' or {type: 'function', name}")
}

export type TextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; description?: string; strict: boolean | null }

/** `text`: its format (verbosity is Ollama's to choose: only "medium", the default, is accepted). */
export function textFormatOf(text: unknown): TextFormat {
  if (text == null) return { type: 'text' }
  if (!isObject(text)) throw invalid('text', 'must be an object such as {"format": {"type": "text"}}')
  if (text.verbosity != null && text.verbosity !== 'medium')
    throw unsupported('text.verbosity', 'Ollama has no verbosity setting (only "medium", the default, is accepted)')
  const format = text.format
  if (format == null) return { type: 'text' }
  if (!isObject(format)) throw invalid('text.format', "must be {type: 'text'}, {type: 'json_object'} or {type: 'json_schema', name, schema}")
  if (format.type === 'text' || format.type === 'json_object') return { type: format.type }
  if (format.type !== 'json_schema') throw invalid('text.format.type', 'must be text, json_object or json_schema')
  if (typeof format.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(format.name))
    throw invalid('text.format.name', 'must be 1 to 64 letters, digits, underscores or dashes')
  if (!isObject(format.schema)) throw invalid('text.format.schema', 'must be a JSON Schema object')
  if (format.description != null && typeof format.description !== 'string') throw invalid('text.format.description', 'must be a string')
  if (format.strict != null && typeof format.strict !== 'boolean') throw invalid('text.format.strict', 'must be a boolean')
  return {
    type: 'json_schema',
    name: format.name,
    schema: format.schema,
    ...(typeof format.description === 'string' ? { description: format.description } : {}),
    strict: (format.strict as boolean | undefined) ?? null,
  }
}

type Effort = (typeof REASONING_EFFORTS)[number]

export function reasoningEffortOf(reasoning: unknown): Effort | null {
  if (reasoning == null) return null
  if (!isObject(reasoning)) throw invalid('reasoning', 'must be an object such as {"effort": "low"}, or null')
  if (reasoning.effort == null) return null
  if (!REASONING_EFFORTS.includes(reasoning.effort as Effort)) throw invalid('reasoning.effort', `must be one of ${REASONING_EFFORTS.join(', ')}`)
  return reasoning.effort as Effort
}

/** The request's own settings, checked: what the chat request is made from and the response object repeats. */
export type Settings = {
  tools: FunctionTool[]
  toolChoice: ToolChoice
  textFormat: TextFormat
  effort: Effort | null
}

export function settingsOf(body: CreateResponseRequest): Settings {
  if (body.background === true) throw unsupported('background', 'responses are answered while the request is open')
  if (body.prompt != null) throw unsupported('prompt', 'there are no stored prompt templates; send instructions and input')
  const tools = functionToolsOf(body.tools)
  return { tools, toolChoice: toolChoiceOf(body.tool_choice, tools), textFormat: textFormatOf(body.text), effort: reasoningEffortOf(body.reasoning) }
}

function responseFormatOf(format: TextFormat): ChatRequest['response_format'] {
  if (format.type !== 'json_schema') return format
  const { name, schema, description, strict } = format
  return { type: 'json_schema', json_schema: { name, schema, strict, ...(description !== undefined ? { description } : {}) } }
}

/**
 * The chat request: `instructions` as a system message first, then the history and the new
 * input's messages. Only the fields the Responses request set are set.
 */
export function chatRequestOf(body: CreateResponseRequest, settings: Settings, messages: ChatMessage[]): ChatRequest {
  const chat: ChatRequest = {
    model: body.model,
    messages: body.instructions ? [{ role: 'system', content: body.instructions }, ...messages] : messages,
    stream: body.stream === true,
  }
  if (body.temperature != null) chat.temperature = body.temperature
  if (body.top_p != null) chat.top_p = body.top_p
  if (body.max_output_tokens != null) chat.max_completion_tokens = body.max_output_tokens
  if (settings.tools.length) {
    chat.tools = settings.tools.map(({ name, description, parameters, strict }) => ({
      type: 'function' as const,
      function: { name, ...(description !== null ? { description } : {}), ...(parameters !== null ? { parameters } : {}), strict },
    }))
    const choice = settings.toolChoice
    chat.tool_choice = typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } }
  }
  if (body.parallel_tool_calls != null) chat.parallel_tool_calls = body.parallel_tool_calls
  if (settings.textFormat.type !== 'text') chat.response_format = responseFormatOf(settings.textFormat)
  if (settings.effort) chat.reasoning_effort = settings.effort
  if (body.metadata != null) chat.metadata = body.metadata
  if (body.user != null) chat.user = body.user
  return chat
}
