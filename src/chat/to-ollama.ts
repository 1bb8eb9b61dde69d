// Turns an OpenAI chat request into Ollama's /api/chat request: roles, text and image parts,
// tool calls and tool results, sampling options, response format, tools and reasoning.
// What the schema cannot check (data URLs, tool-call arguments, JSON Schemas, stream_options)
// is checked here, naming the field.
import type { ChatRequest as OllamaChatRequest, Message as OllamaMessage, Options, Tool } from 'ollama/browser'
import { HttpError } from '../http/errors'
import type { ChatMessage, ChatRequest } from './schemas'

const invalid = (param: string, message: string) =>
  new HttpError(400, `Invalid body field '${param}': ${message}`, { param, code: 'invalid_value' })

// Ollama takes raw base64 images; it cannot fetch remote URLs, and the gateway will not fetch them for it.
const dataUrl = /^data:image\/[\w.+-]+;base64,((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/i

function contentOf(message: ChatMessage, at: string): { content: string; images?: string[] } {
  const { content } = message
  if (content === undefined || content === null) return { content: '' }
  if (typeof content === 'string') return { content }
  const texts: string[] = []
  const images: string[] = []
  content.forEach((part, index) => {
    if (part.type === 'text') return void texts.push(part.text)
    const match = dataUrl.exec(part.image_url.url.replace(/\s+/g, ''))
    if (!match?.[1])
      throw invalid(
        `${at}.content.${index}.image_url.url`,
        'images must be data URLs (data:image/…;base64,…); remote image URLs are not fetched',
      )
    images.push(match[1]!)
  })
  return images.length ? { content: texts.join('\n'), images } : { content: texts.join('\n') }
}

/** Deeper JSON is refused here: serialising it for Ollama would overflow the stack, after blocking the server for seconds. */
const MAX_DEPTH = 64

function checkDepth(param: string, value: unknown) {
  const pending: [unknown, number][] = [[value, 1]]
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next
    if (item === null || typeof item !== 'object') continue
    if (depth > MAX_DEPTH) throw invalid(param, `must not nest deeper than ${MAX_DEPTH} levels`)
    for (const child of Object.values(item)) pending.push([child, depth + 1])
  }
}

function toolArguments(raw: string, param: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = raw.trim() === '' ? {} : JSON.parse(raw)
  } catch {
    throw invalid(param, 'must be a JSON object encoded as a string')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(param, 'must encode a JSON object')
  checkDepth(param, parsed)
  return parsed as Record<string, unknown>
}

function messagesOf(messages: ChatMessage[]): OllamaMessage[] {
  const toolNames = new Map<string, string>()
  return messages.map((message, i) => {
    const at = `messages.${i}`
    const role = message.role === 'developer' ? 'system' : message.role
    const mapped: OllamaMessage = { role, ...contentOf(message, at) }
    if (message.role === 'assistant' && message.tool_calls?.length)
      mapped.tool_calls = message.tool_calls.map((call, j) => {
        toolNames.set(call.id, call.function.name)
        return {
          function: {
            name: call.function.name,
            arguments: toolArguments(call.function.arguments, `${at}.tool_calls.${j}.function.arguments`),
          },
        }
      })
    if (message.role === 'tool' && message.tool_call_id !== undefined) {
      const name = toolNames.get(message.tool_call_id)
      if (name) mapped.tool_name = name
    }
    return mapped
  })
}

/** `num_predict` is always sent, never above the ceiling: without it Ollama generates until the context is full. */
function optionsOf(body: ChatRequest, maxOutputTokens: number): Partial<Options> {
  const options: Partial<Options> = {}
  const maxTokens = body.max_completion_tokens ?? body.max_tokens
  if (body.temperature != null) options.temperature = body.temperature
  if (body.top_p != null) options.top_p = body.top_p
  options.num_predict = Math.min(maxTokens ?? maxOutputTokens, maxOutputTokens)
  if (body.stop != null) options.stop = typeof body.stop === 'string' ? [body.stop] : body.stop
  if (body.seed != null) options.seed = body.seed
  if (body.presence_penalty != null) options.presence_penalty = body.presence_penalty
  if (body.frequency_penalty != null) options.frequency_penalty = body.frequency_penalty
  return options
}

function jsonSchemaAt(param: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(param, 'must be a JSON Schema object')
  checkDepth(param, value)
  return value as Record<string, unknown>
}

function formatOf(format: ChatRequest['response_format']): OllamaChatRequest['format'] {
  if (!format || format.type === 'text') return undefined
  if (format.type === 'json_object') return 'json'
  const { schema } = format.json_schema
  return schema === undefined ? 'json' : jsonSchemaAt('response_format.json_schema.schema', schema)
}

/** Ollama has no tool_choice: `none` sends no tools, a named function sends only that tool. */
function toolsOf(body: ChatRequest): Tool[] | undefined {
  const { tools, tool_choice: choice } = body
  tools?.forEach((tool, i) => {
    if (tool.function.parameters !== undefined) jsonSchemaAt(`tools.${i}.function.parameters`, tool.function.parameters)
  })
  if (!tools?.length || choice === 'none') return undefined
  if (choice && typeof choice === 'object') {
    const chosen = tools.filter((tool) => tool.function.name === choice.function.name)
    if (!chosen.length) throw invalid('tool_choice.function.name', "must name one of the tools in 'tools'")
    return chosen as Tool[]
  }
  return tools as Tool[]
}

function thinkOf(effort: ChatRequest['reasoning_effort']): OllamaChatRequest['think'] {
  if (effort == null) return undefined
  if (effort === 'none') return false
  return effort === 'minimal' ? 'low' : effort
}

function checkStreamOptions(options: unknown) {
  if (options == null) return
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('stream_options', 'must be an object such as {"include_usage": true}, or null')
  const { include_usage: includeUsage } = options as Record<string, unknown>
  if (includeUsage != null && typeof includeUsage !== 'boolean') throw invalid('stream_options.include_usage', 'must be a boolean')
}

/**
 * The upstream request, its output capped at `maxOutputTokens` (MAX_OUTPUT_TOKENS). It always
 * streams: that is what lets a slow or vanished client be noticed.
 */
export function toOllamaRequest(body: ChatRequest, maxOutputTokens: number): OllamaChatRequest & { stream: true } {
  checkStreamOptions(body.stream_options)
  const request: OllamaChatRequest & { stream: true } = {
    model: body.model,
    messages: messagesOf(body.messages),
    stream: true,
    options: optionsOf(body, maxOutputTokens),
  }
  const format = formatOf(body.response_format)
  if (format !== undefined) request.format = format
  const tools = toolsOf(body)
  if (tools) request.tools = tools
  const think = thinkOf(body.reasoning_effort)
  if (think !== undefined) request.think = think
  return request
}
