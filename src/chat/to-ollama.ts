// Turns an OpenAI chat request into Ollama's /api/chat request: roles, text and image parts,
// tool calls and tool results (the legacy `functions` form too), sampling options, response
// format, tools, reasoning and logprobs. What the schema cannot check (data URLs, tool-call
// arguments, JSON Schemas, stream_options, metadata, fields that depend on each other) is checked
// here, naming the field; so are the parameters Ollama has no equivalent for, refused with a 400
// that says so rather than ignored.
import type { ChatRequest as OllamaChatRequest, Message as OllamaMessage, Options, Tool } from 'ollama/browser'
import { HttpError } from '../http/errors'
import { REASONING_EFFORTS, type ChatMessage, type ChatRequest } from './schemas'

const invalid = (param: string, message: string) =>
  new HttpError(400, `Invalid body field '${param}': ${message}`, { param, code: 'invalid_value' })

const unsupported = (param: string, message: string) =>
  new HttpError(400, `The parameter '${param}' is not supported: ${message}`, { param, code: 'unsupported_parameter' })

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

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

/** OpenAI's roles as Ollama's: `developer` is a system message, a legacy `function` result a tool result. */
const ROLES: Record<ChatMessage['role'], string> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
  function: 'tool',
}

/**
 * A tool result names its tool for Ollama (`tool_name`): by the message's own `name` (which a
 * legacy `function` message must have), else by the call its `tool_call_id` answers.
 */
function messagesOf(messages: ChatMessage[]): OllamaMessage[] {
  const toolNames = new Map<string, string>()
  return messages.map((message, i) => {
    const at = `messages.${i}`
    const mapped: OllamaMessage = { role: ROLES[message.role], ...contentOf(message, at) }
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
    else if (message.role === 'assistant' && message.function_call)
      mapped.tool_calls = [
        { function: { name: message.function_call.name, arguments: toolArguments(message.function_call.arguments, `${at}.function_call.arguments`) } },
      ]
    if (message.role === 'function' && !message.name) throw invalid(`${at}.name`, "a 'function' message must name its function")
    if (message.role === 'tool' || message.role === 'function') {
      const name = message.name || (message.tool_call_id !== undefined ? toolNames.get(message.tool_call_id) : undefined)
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
  if (body.top_k != null) options.top_k = body.top_k
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

/** Whether the client speaks the legacy function-calling form (`functions`), and is answered in it. */
export const usesLegacyFunctions = (body: ChatRequest) => body.functions != null

/** The tools and tool choice, read from `functions` and `function_call` for a legacy client. */
function toolsAndChoice(body: ChatRequest): { tools: NonNullable<ChatRequest['tools']> | undefined; choice: ChatRequest['tool_choice']; at: string } {
  if (!usesLegacyFunctions(body)) return { tools: body.tools ?? undefined, choice: body.tool_choice, at: 'tools' }
  const choice = body.function_call
  return {
    tools: body.functions!.map((fn) => ({ type: 'function' as const, function: fn })),
    choice: choice && typeof choice === 'object' ? { type: 'function', function: { name: choice.name } } : choice,
    at: 'functions',
  }
}

/** Ollama has no tool_choice: `none` sends no tools, a named function sends only that tool. */
function toolsOf(body: ChatRequest): Tool[] | undefined {
  const { tools, choice, at } = toolsAndChoice(body)
  const legacy = at === 'functions'
  tools?.forEach((tool, i) => {
    if (tool.function.parameters !== undefined) jsonSchemaAt(legacy ? `functions.${i}.parameters` : `tools.${i}.function.parameters`, tool.function.parameters)
  })
  if (!tools?.length || choice === 'none') return undefined
  if (choice && typeof choice === 'object') {
    const chosen = tools.filter((tool) => tool.function.name === choice.function.name)
    if (!chosen.length)
      throw legacy
        ? invalid('function_call.name', "must name one of the functions in 'functions'")
        : invalid('tool_choice.function.name', "must name one of the tools in 'tools'")
    return chosen as Tool[]
  }
  return tools as Tool[]
}

type Effort = (typeof REASONING_EFFORTS)[number]

/** The effort asked for, by `reasoning_effort` or the Responses API's `reasoning: {effort}` (which must then agree). */
function effortOf(body: ChatRequest): Effort | undefined {
  const { reasoning } = body
  if (reasoning == null) return body.reasoning_effort ?? undefined
  if (!isObject(reasoning)) throw invalid('reasoning', 'must be an object such as {"effort": "low"}, or null')
  const effort = reasoning.effort
  if (effort == null) return body.reasoning_effort ?? undefined
  if (!REASONING_EFFORTS.includes(effort as Effort)) throw invalid('reasoning.effort', `must be one of ${REASONING_EFFORTS.join(', ')}`)
  if (body.reasoning_effort != null && body.reasoning_effort !== effort)
    throw invalid('reasoning.effort', "disagrees with 'reasoning_effort': send one of them")
  return effort as Effort
}

/**
 * OpenAI's efforts as Ollama's `think`, which is off, on, or one of low, medium and high:
 * `none` turns thinking off; `minimal` is Ollama's least (`low`), `xhigh` its most (`high`).
 */
export const THINK_OF_EFFORT: Record<Effort, NonNullable<OllamaChatRequest['think']>> = {
  none: false,
  minimal: 'low',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'high',
}

/** Pairs of metadata, as OpenAI bounds them. */
const METADATA = { pairs: 16, keyLength: 64, valueLength: 512 }

/** The longest `user` the log keeps. */
const MAX_USER_LENGTH = 256

function checkMetadata(metadata: unknown) {
  if (metadata == null) return
  if (!isObject(metadata)) throw invalid('metadata', 'must be an object of string values, or null')
  const entries = Object.entries(metadata)
  if (entries.length > METADATA.pairs) throw invalid('metadata', `must have at most ${METADATA.pairs} pairs`)
  for (const [key, value] of entries) {
    if (key.length > METADATA.keyLength) throw invalid('metadata', `keys must be at most ${METADATA.keyLength} characters`)
    if (typeof value !== 'string') throw invalid('metadata', 'values must be strings')
    if (value.length > METADATA.valueLength) throw invalid('metadata', `values must be at most ${METADATA.valueLength} characters`)
  }
}

/** OpenAI's parameters that Ollama has no equivalent for, when they ask for something: a 400 saying so. */
function refuseUnsupported(body: ChatRequest) {
  if (body.audio != null) throw unsupported('audio', 'Ollama generates text, not audio')
  if (body.modalities?.some((modality) => modality !== 'text'))
    throw unsupported('modalities', 'Ollama generates text only: the only modality is "text"')
  if (body.prediction != null) throw unsupported('prediction', 'Ollama has no predicted outputs')
  if (body.web_search_options != null) throw unsupported('web_search_options', 'the gateway does not search the web')
  if (body.logit_bias != null && !(isObject(body.logit_bias) && Object.keys(body.logit_bias).length === 0))
    throw unsupported('logit_bias', 'Ollama cannot bias tokens')
  if (body.moderation != null) throw unsupported('moderation', 'the gateway runs no moderation model')
  if (body.verbosity != null && body.verbosity !== 'medium')
    throw unsupported('verbosity', 'Ollama has no verbosity setting (only "medium", the default, is accepted)')
}

/**
 * What the schema cannot check about the request, and what the gateway cannot do: a 400
 * naming the field. Every reply is made after it, whether Ollama or the response cache answers.
 */
export function checkChatRequest(body: ChatRequest) {
  refuseUnsupported(body)
  checkStreamOptions(body.stream_options)
  if (body.user != null && body.user.length > MAX_USER_LENGTH) throw invalid('user', `must be at most ${MAX_USER_LENGTH} characters`)
  checkMetadata(body.metadata)
  effortOf(body)
  if (body.stream && (body.n ?? 1) > 1)
    throw new HttpError(400, "The parameter 'n' above 1 is not supported with stream: true; ask for the choices without streaming", {
      param: 'n',
      code: 'unsupported_value',
    })
  if (body.top_logprobs != null && body.top_logprobs > 0 && body.logprobs !== true)
    throw invalid('top_logprobs', "needs 'logprobs': true")
  if (body.functions != null && body.tools != null) throw invalid('functions', "cannot be sent with 'tools': send one of them")
  if (body.function_call != null && body.functions == null) throw invalid('function_call', "needs 'functions' (with 'tools', use 'tool_choice')")
  if (body.tool_choice != null && body.functions != null) throw invalid('tool_choice', "goes with 'tools' (with 'functions', use 'function_call')")
}

function checkStreamOptions(options: unknown) {
  if (options == null) return
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('stream_options', 'must be an object such as {"include_usage": true}, or null')
  const { include_usage: includeUsage } = options as Record<string, unknown>
  if (includeUsage != null && typeof includeUsage !== 'boolean') throw invalid('stream_options.include_usage', 'must be a boolean')
}

/**
 * The upstream request, its output capped at `maxOutputTokens` (MAX_OUTPUT_TOKENS). It always
 * streams: that is what lets a slow or vanished client be noticed. Call `checkChatRequest` first.
 */
export function toOllamaRequest(body: ChatRequest, maxOutputTokens: number): OllamaChatRequest & { stream: true } {
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
  const effort = effortOf(body)
  if (effort !== undefined) request.think = THINK_OF_EFFORT[effort]
  if (body.logprobs) {
    request.logprobs = true
    if (body.top_logprobs) request.top_logprobs = body.top_logprobs
  }
  return request
}

/**
 * The request of choice `choice` (0 to n - 1) of several (`n`), each its own call: with a seed,
 * choice i gets seed + i (seed - i near the top of the range), else they would all be one reply.
 */
export function forChoice<R extends OllamaChatRequest>(request: R, choice: number): R {
  const seed = request.options?.seed
  if (choice === 0 || seed === undefined) return request
  return { ...request, options: { ...request.options, seed: seed + choice > Number.MAX_SAFE_INTEGER ? seed - choice : seed + choice } }
}
