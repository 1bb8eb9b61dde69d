// Anthropic's Messages request as the OpenAI-shaped chat request the chat pipeline runs
// (src/chat/service.ts): so a /v1/messages call is mapped to Ollama, limited, logged, cached and
// cancelled exactly as a chat completion is. Content blocks become chat messages (tool results
// their own `tool` messages, tool uses an assistant's `tool_calls`), tools and tool_choice
// OpenAI's, `thinking` a reasoning effort. What the schema cannot check is checked here, naming
// the field as the client wrote it (a 400 in Anthropic's envelope); so are the parts of
// Anthropic's API the gateway cannot serve, refused rather than ignored.
import type { ChatMessage, ChatRequest, REASONING_EFFORTS } from '../chat/schemas'
import { HttpError } from '../http/errors'
import type { Message as ScreenedMessage } from '../threats/content'
import type { AnthropicMessage, ContentBlock, MessagesRequest } from './schemas'

const invalid = (param: string, message: string) =>
  new HttpError(400, `Invalid body field '${param}': ${message}`, { param, code: 'invalid_value' })

const unsupported = (param: string, message: string) =>
  new HttpError(400, `The field '${param}' is not supported: ${message}`, { param, code: 'unsupported_parameter' })

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

type Part = Extract<NonNullable<ChatMessage['content']>, unknown[]>[number]
type Effort = (typeof REASONING_EFFORTS)[number]
type Block<T extends ContentBlock['type']> = Extract<ContentBlock, { type: T }>

/** How the reply is answered, beyond what the chat request says. */
export type ReplyOptions = {
  /** `thinking.display: "omitted"`: thinking blocks are sent without their text. */
  omitThinking: boolean
}

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp']
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** A base64 image as the data URL of an OpenAI image part: Ollama gets its bytes; remote images are never fetched. */
function imagePart({ source }: Block<'image'>, at: string): Part {
  if (source.type === 'url' || source.type === 'file')
    throw unsupported(`${at}.source.type`, 'images are not fetched from URLs or files: send them as {type: "base64", media_type, data}')
  if (source.type !== 'base64') throw invalid(`${at}.source.type`, 'must be "base64"')
  if (!source.media_type || !IMAGE_TYPES.includes(source.media_type)) throw invalid(`${at}.source.media_type`, `must be one of ${IMAGE_TYPES.join(', ')}`)
  const data = (source.data ?? '').replace(/\s+/g, '')
  if (!data || !BASE64.test(data)) throw invalid(`${at}.source.data`, 'must be the image encoded in base64')
  return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${data}` } }
}

/** A tool's result as the `tool` message answering its call (Ollama names the tool from the call's id). */
function toolResultMessage(block: Block<'tool_result'>, at: string): ChatMessage {
  const { content } = block
  const parts = typeof content === 'string' || content === undefined
    ? content ?? ''
    : content.map((part, k) => (part.type === 'text' ? { type: 'text' as const, text: part.text } : imagePart(part, `${at}.content.${k}`)))
  return { role: 'tool', tool_call_id: block.tool_use_id, content: parts }
}

/**
 * A user turn: its tool results first, each its own `tool` message (OpenAI's order: results
 * right after the calls they answer; Anthropic puts them first in the turn too), then its text
 * and images as one user message.
 */
function userTurn(content: Exclude<AnthropicMessage['content'], string>, at: string): ChatMessage[] {
  const results: ChatMessage[] = []
  const parts: Part[] = []
  content.forEach((block, j) => {
    const where = `${at}.content.${j}`
    if (block.type === 'text') parts.push({ type: 'text', text: block.text })
    else if (block.type === 'image') parts.push(imagePart(block, where))
    else if (block.type === 'tool_result') results.push(toolResultMessage(block, where))
    else throw invalid(`${where}.type`, `a user message holds text, image and tool_result blocks, not ${block.type}`)
  })
  return parts.length || !results.length ? [...results, { role: 'user', content: parts }] : results
}

/** An assistant turn: its text, and its tool uses as `tool_calls`. Thinking passed back is dropped: Ollama reads no earlier reasoning. */
function assistantTurn(content: Exclude<AnthropicMessage['content'], string>, at: string): ChatMessage {
  let text = ''
  const calls: NonNullable<ChatMessage['tool_calls']> = []
  content.forEach((block, j) => {
    const where = `${at}.content.${j}`
    if (block.type === 'text') text += block.text
    else if (block.type === 'tool_use') {
      if (!isObject(block.input)) throw invalid(`${where}.input`, 'must be a JSON object')
      calls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input) } })
    } else if (block.type !== 'thinking' && block.type !== 'redacted_thinking')
      throw invalid(`${where}.type`, `an assistant message holds text, tool_use and thinking blocks, not ${block.type}`)
  })
  return calls.length ? { role: 'assistant', content: text, tool_calls: calls } : { role: 'assistant', content: text }
}

/** System text, from the top-level `system` or a `system` message: a string or text blocks. */
function systemMessage(content: AnthropicMessage['content'], at: string): ChatMessage {
  if (typeof content === 'string') return { role: 'system', content }
  return {
    role: 'system',
    content: content.map((block, j) => {
      if (block.type !== 'text') throw invalid(`${at}.${j}.type`, 'system content holds text blocks only')
      return { type: 'text' as const, text: block.text }
    }),
  }
}

function messagesOf(body: MessagesRequest): ChatMessage[] {
  const messages: ChatMessage[] = []
  if (body.system !== undefined && body.system.length > 0) messages.push(systemMessage(body.system, 'system'))
  body.messages.forEach(({ role, content }, i) => {
    const at = `messages.${i}`
    if (role === 'system') messages.push(systemMessage(content, `${at}.content`))
    else if (typeof content === 'string') messages.push({ role, content })
    else if (role === 'user') messages.push(...userTurn(content, at))
    else messages.push(assistantTurn(content, at))
  })
  return messages
}

/** Custom tools as function tools; Anthropic's server tools (web search, code execution, bash…) do not run here. */
function toolsOf(tools: NonNullable<MessagesRequest['tools']>): NonNullable<ChatRequest['tools']> {
  return tools.map((tool, i) => {
    if (tool.type != null && tool.type !== 'custom')
      throw unsupported(`tools.${i}.type`, "Anthropic's server tools do not run here: only custom tools, {name, description, input_schema}, are served")
    if (!isObject(tool.input_schema)) throw invalid(`tools.${i}.input_schema`, 'must be a JSON Schema object')
    const fn = { name: tool.name, parameters: tool.input_schema }
    return { type: 'function', function: tool.description === undefined ? fn : { ...fn, description: tool.description } }
  })
}

/** `auto`, `any` (OpenAI's `required`), a named `tool`, or `none`; `disable_parallel_tool_use` keeps the first call only. */
function toolChoiceOf(body: MessagesRequest): Pick<ChatRequest, 'tool_choice' | 'parallel_tool_calls'> {
  const choice = body.tool_choice
  if (choice == null) return {}
  const parallel = 'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {}
  if (choice.type === 'none') return { tool_choice: 'none' }
  if (choice.type === 'auto') return { tool_choice: 'auto', ...parallel }
  if (!body.tools?.length) throw invalid('tool_choice', `{type: '${choice.type}'} needs 'tools'`)
  if (choice.type === 'any') return { tool_choice: 'required', ...parallel }
  if (!body.tools.some((tool) => tool.name === choice.name)) throw invalid('tool_choice.name', "must name one of the tools in 'tools'")
  return { tool_choice: { type: 'function', function: { name: choice.name } }, ...parallel }
}

/**
 * A thinking budget as Ollama's level of thought (low, medium, high), cut where Claude Code's
 * budgets fall: 4,000 tokens ("think") is low, 10,000 ("think hard") medium, 31,999 ("ultrathink") high.
 */
export function effortOfBudget(budget: number): Effort {
  return budget < 4096 ? 'low' : budget < 16384 ? 'medium' : 'high'
}

/** Anthropic's output efforts as OpenAI's (`max` is the most Ollama has: `xhigh` → its `high`). */
const EFFORTS: Record<string, Effort> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh', max: 'xhigh' }

type OutputConfig = { effort?: Effort; format?: ChatRequest['response_format'] }

function outputConfigOf(value: unknown): OutputConfig {
  if (value == null) return {}
  if (!isObject(value)) throw invalid('output_config', 'must be an object such as {"effort": "low"}')
  const config: OutputConfig = {}
  if (value.effort != null) {
    if (typeof value.effort !== 'string' || !Object.hasOwn(EFFORTS, value.effort)) throw invalid('output_config.effort', `must be one of ${Object.keys(EFFORTS).join(', ')}`)
    config.effort = EFFORTS[value.effort]
  }
  if (value.format != null) {
    const { format } = value
    if (!isObject(format) || format.type !== 'json_schema' || !isObject(format.schema))
      throw invalid('output_config.format', 'must be {type: "json_schema", schema: {…}}')
    config.format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema } }
  }
  return config
}

/**
 * The reasoning effort (→ Ollama's `think`): `thinking: {type: "disabled"}` turns it off;
 * otherwise `output_config.effort` when given, else the budget of `{type: "enabled"}`, and
 * `adaptive` / `between_tools` (the model decides) Ollama's thinking at its middle level.
 */
function effortOf(body: MessagesRequest, config: OutputConfig): Effort | undefined {
  const { thinking } = body
  if (thinking?.type === 'disabled') return 'none'
  if (config.effort) return config.effort
  if (thinking?.type === 'enabled') {
    if (thinking.budget_tokens >= body.max_tokens) throw invalid('thinking.budget_tokens', 'must be less than max_tokens')
    return effortOfBudget(thinking.budget_tokens)
  }
  return thinking ? 'medium' : undefined
}

/** The longest `metadata.user_id` the log keeps (the chat's `user`). */
const MAX_USER_LENGTH = 256

function userOf(metadata: unknown): string | undefined {
  if (metadata == null) return undefined
  if (!isObject(metadata)) throw invalid('metadata', 'must be an object such as {"user_id": "…"}')
  const userId = metadata.user_id
  if (userId == null) return undefined
  if (typeof userId !== 'string') throw invalid('metadata.user_id', 'must be a string')
  if (userId.length > MAX_USER_LENGTH) throw invalid('metadata.user_id', `must be at most ${MAX_USER_LENGTH} characters`)
  return userId
}

function refuseUnsupported(body: MessagesRequest) {
  if (body.container != null) throw unsupported('container', 'the gateway runs no code-execution containers')
  if (body.mcp_servers != null) throw unsupported('mcp_servers', 'the gateway calls no MCP servers: give the tools as custom tools')
}

/** The chat request a Messages request stands for, and how its reply is answered. */
export function toChatRequest(body: MessagesRequest): { chat: ChatRequest; reply: ReplyOptions } {
  refuseUnsupported(body)
  const config = outputConfigOf(body.output_config)
  const chat: ChatRequest = { model: body.model, messages: messagesOf(body), max_tokens: body.max_tokens, stream: body.stream === true }
  if (body.temperature != null) chat.temperature = body.temperature
  if (body.top_p != null) chat.top_p = body.top_p
  if (body.top_k != null) chat.top_k = body.top_k
  if (body.stop_sequences?.length) chat.stop = body.stop_sequences
  if (body.tools?.length) chat.tools = toolsOf(body.tools)
  Object.assign(chat, toolChoiceOf(body))
  const effort = effortOf(body, config)
  if (effort) chat.reasoning_effort = effort
  if (config.format) chat.response_format = config.format
  const user = userOf(body.metadata)
  if (user !== undefined) chat.user = user
  const display = body.thinking && 'display' in body.thinking ? body.thinking.display : undefined
  return { chat, reply: { omitThinking: display === 'omitted' } }
}

/** The text of each message as prompt-injection screening reads it (src/chat/screening.ts), indexed as the client sent them. */
export function screenedMessages(body: MessagesRequest): ScreenedMessage[] {
  return body.messages.map(({ role, content }) => {
    if (typeof content === 'string') return { role, content }
    const texts = content.flatMap((block) => {
      if (block.type === 'text') return [block.text]
      if (block.type !== 'tool_result') return []
      if (typeof block.content === 'string') return [block.content]
      return (block.content ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : []))
    })
    return { role, content: texts.join('\n') }
  })
}
