// The shapes the chat gateway accepts and returns, as `t` schemas: OpenAI's chat request
// (validated before the handler runs, so a bad field is a 400 naming it) and the model/health
// objects that document /v1/models and /v1/health in Swagger.
import { t } from 'elysia'
import { integer, nullable } from '../http/schema'

/**
 * A JSON Schema. Checked by the mapping to Ollama (to-ollama.ts): an object schema here would
 * let Elysia turn an array into an object ({"0": …}) before checking it.
 */
const jsonSchema = t.Any({ description: 'a JSON Schema object' })

/** Integers past 2^53 lose their value in JSON, and Ollama reads these into Go ints. */
const MAX_INTEGER = Number.MAX_SAFE_INTEGER

const textPart = t.Object({ type: t.Literal('text'), text: t.String() })
const imagePart = t.Object({
  type: t.Literal('image_url'),
  image_url: t.Object({ url: t.String(), detail: t.Optional(t.String()) }),
})

const toolCall = t.Object({
  id: t.String(),
  type: t.Literal('function'),
  function: t.Object({ name: t.String({ minLength: 1 }), arguments: t.String() }),
})

/** The legacy (pre-tools) form of a call, on an assistant message of a client that uses `functions`. */
const functionCall = t.Object(
  { name: t.String({ minLength: 1 }), arguments: t.String() },
  { error: 'function_call must be {name, arguments}, with arguments a JSON string' },
)

export const chatMessage = t.Object({
  // `function` is the legacy form of `tool`: a function's result, named by `name`.
  role: t.Union(
    [t.Literal('system'), t.Literal('developer'), t.Literal('user'), t.Literal('assistant'), t.Literal('tool'), t.Literal('function')],
    { error: 'role must be one of system, developer, user, assistant, tool, function' },
  ),
  content: nullable(
    t.Union([t.String(), t.Array(t.Union([textPart, imagePart]))], {
      error: 'content must be a string, an array of text and image_url parts, or null',
    }),
  ),
  name: t.Optional(t.String()),
  tool_calls: nullable(
    t.Array(toolCall, { error: "tool_calls must be an array of {id, type: 'function', function: {name, arguments}}, with arguments a JSON string" }),
  ),
  tool_call_id: t.Optional(t.String()),
  function_call: nullable(functionCall),
})

const functionTool = t.Object({
  type: t.Literal('function'),
  function: t.Object({
    name: t.String({ minLength: 1, maxLength: 64 }),
    description: t.Optional(t.String()),
    parameters: t.Optional(jsonSchema),
    strict: nullable(t.Boolean()),
  }),
})

/** The legacy form of a function tool (`functions`), mapped to `tools`. */
const legacyFunction = t.Object({
  name: t.String({ minLength: 1, maxLength: 64 }),
  description: t.Optional(t.String()),
  parameters: t.Optional(jsonSchema),
})

/** The legacy form of `tool_choice`. */
const legacyFunctionChoice = t.Union([t.Literal('none'), t.Literal('auto'), t.Object({ name: t.String() })], {
  error: "function_call must be 'none', 'auto' or {name}",
})

/** OpenAI's reasoning efforts, all of them (Ollama's `think` takes fewer: see to-ollama.ts `thinkOf`). */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const

const reasoningEffort = t.Union(
  REASONING_EFFORTS.map((effort) => t.Literal(effort)) as [ReturnType<typeof t.Literal<(typeof REASONING_EFFORTS)[number]>>],
  { error: `reasoning_effort must be one of ${REASONING_EFFORTS.join(', ')}` },
)

/** Choices a request may ask for (`n`): each is its own upstream call (service.ts), so they are few. */
export const MAX_CHOICES = 8

/**
 * Fields of OpenAI's request that Ollama has no equivalent for. Accepted by the schema as
 * anything, so that the check (to-ollama.ts `refuseUnsupported`) can answer a 400 that says
 * they are unsupported, rather than the schema's "expected …" or silence.
 */
const unsupported = (what: string) => nullable(t.Any({ description: `not supported (400 unsupported_parameter when set): ${what}` }))

const toolChoice = t.Union(
  [
    t.Literal('none'),
    t.Literal('auto'),
    t.Literal('required'),
    t.Object({ type: t.Literal('function'), function: t.Object({ name: t.String() }) }),
  ],
  { error: "tool_choice must be 'none', 'auto', 'required' or {type: 'function', function: {name}}" },
)

const responseFormat = t.Union(
  [
    t.Object({ type: t.Literal('text') }),
    t.Object({ type: t.Literal('json_object') }),
    t.Object({
      type: t.Literal('json_schema'),
      json_schema: t.Object({
        name: t.String(),
        description: t.Optional(t.String()),
        schema: t.Optional(jsonSchema),
        strict: nullable(t.Boolean()),
      }),
    }),
  ],
  { error: "response_format must be {type: 'text'}, {type: 'json_object'} or {type: 'json_schema', json_schema: {name, schema}}" },
)

export const chatRequest = t.Object({
  model: t.String({ minLength: 1, maxLength: 200, error: 'model must be a string of 1 to 200 characters' }),
  messages: t.Array(chatMessage, { minItems: 1, error: 'messages must be a non-empty array of messages' }),
  stream: nullable(t.Boolean()),
  // Checked in to-ollama.ts: Elysia turns any non-object into {} for an object of optional fields.
  stream_options: t.Optional(t.Any({ description: 'an object such as {"include_usage": true}, or null' })),
  temperature: nullable(t.Number({ minimum: 0, maximum: 2, error: 'temperature must be a number from 0 to 2' })),
  top_p: nullable(t.Number({ minimum: 0, maximum: 1, error: 'top_p must be a number from 0 to 1' })),
  // Not OpenAI's (Ollama's, vLLM's, Anthropic's): sample from the k likeliest tokens only.
  top_k: nullable(integer({ minimum: 0, maximum: 2 ** 31 - 1, error: 'top_k must be an integer from 0 to 2147483647' })),
  max_tokens: nullable(integer({ minimum: 1, maximum: 2 ** 31 - 1, error: 'max_tokens must be an integer from 1 to 2147483647' })),
  max_completion_tokens: nullable(
    integer({ minimum: 1, maximum: 2 ** 31 - 1, error: 'max_completion_tokens must be an integer from 1 to 2147483647' }),
  ),
  stop: nullable(t.Union([t.String(), t.Array(t.String(), { maxItems: 16 })], { error: 'stop must be a string or an array of at most 16 strings' })),
  seed: nullable(integer({ minimum: -MAX_INTEGER, maximum: MAX_INTEGER, error: 'seed must be an integer of at most 2^53 - 1 in size' })),
  presence_penalty: nullable(t.Number({ minimum: -2, maximum: 2, error: 'presence_penalty must be a number from -2 to 2' })),
  frequency_penalty: nullable(t.Number({ minimum: -2, maximum: 2, error: 'frequency_penalty must be a number from -2 to 2' })),
  n: nullable(
    integer({ minimum: 1, maximum: MAX_CHOICES, error: `n must be an integer from 1 to ${MAX_CHOICES} (each choice is one call to Ollama)` }),
  ),
  response_format: nullable(responseFormat),
  tools: nullable(
    t.Array(functionTool, { error: "tools must be an array of {type: 'function', function: {name, description?, parameters?}}" }),
  ),
  tool_choice: nullable(toolChoice),
  parallel_tool_calls: nullable(t.Boolean({ error: 'parallel_tool_calls must be a boolean' })),
  functions: nullable(
    t.Array(legacyFunction, { minItems: 1, maxItems: 128, error: 'functions must be an array of 1 to 128 {name, description?, parameters?}' }),
  ),
  function_call: nullable(legacyFunctionChoice),
  logprobs: nullable(t.Boolean({ error: 'logprobs must be a boolean' })),
  top_logprobs: nullable(integer({ minimum: 0, maximum: 20, error: 'top_logprobs must be an integer from 0 to 20' })),
  reasoning_effort: nullable(reasoningEffort),
  // The Responses API's form of reasoning_effort, which some clients send to chat as well. Checked
  // in to-ollama.ts: Elysia turns any non-object into {} for an object of optional fields.
  reasoning: t.Optional(t.Any({ description: `an object such as {"effort": "low"}, its effort one of ${REASONING_EFFORTS.join(', ')}` })),
  // Recorded on the request log row, bounded in to-ollama.ts (metadata is checked there: Elysia would turn a non-object into {}).
  user: nullable(t.String({ description: 'an id of your end user, at most 256 characters, recorded on the request log' })),
  metadata: t.Optional(t.Any({ description: 'up to 16 string pairs (keys up to 64 characters, values up to 512), recorded on the request log' })),
  audio: unsupported('audio output'),
  modalities: nullable(t.Array(t.String(), { error: 'modalities must be an array of strings such as ["text"]' })),
  prediction: unsupported('predicted outputs'),
  web_search_options: unsupported('web search'),
  logit_bias: unsupported('token biases (an empty object is accepted)'),
  moderation: unsupported('moderation of input and output'),
  verbosity: unsupported('verbosity other than "medium", the default'),
  // Accepted and ignored, by being left out here (Elysia drops fields the schema does not name,
  // so they reach neither Ollama nor the cache key): store, service_tier, safety_identifier,
  // prompt_cache_key, prompt_cache_retention, prompt_cache_options. See the README.
  // Not OpenAI's: the conversation to keep this exchange in (src/conversations/); the X-Conversation-Id header says the same.
  conversationId: t.Optional(
    t.String({ maxLength: 64, description: 'a conversation id of yours, or "new" to start one', error: 'conversationId must be a conversation id or "new"' }),
  ),
}, {
  // Swagger UI's "Try it out" body: a request that works as shown (without it, Swagger builds
  // one from the field types: "model": "string", "seed": -9007199254740991, …).
  examples: [
    {
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Say hello in one short sentence.' }],
      stream: false,
      temperature: 0.7,
      max_tokens: 256,
    },
  ],
})

export type ChatRequest = typeof chatRequest.static
export type ChatMessage = typeof chatMessage.static

export const modelObject = t.Object({
  id: t.String(),
  object: t.Literal('model'),
  created: integer(),
  owned_by: t.String(),
  displayLabel: t.String(),
  contextLength: t.Nullable(integer()),
  capabilities: t.Array(t.String()),
  metadata: t.Object({
    family: t.String(),
    format: t.String(),
    parameterSize: t.String(),
    quantizationLevel: t.String(),
  }),
})

export type ModelObject = typeof modelObject.static

export const modelList = t.Object({ object: t.Literal('list'), data: t.Array(modelObject) })

/** Anonymous callers get `reachable` and `latencyMs`; the rest only with credentials. */
export const upstreamHealth = t.Object({
  url: t.Optional(t.String()),
  reachable: t.Boolean(),
  latencyMs: t.Nullable(t.Number()),
  version: t.Optional(t.Nullable(t.String())),
  models: t.Optional(t.Array(t.String())),
  inFlight: t.Optional(integer()),
  checkedAt: t.Optional(t.Nullable(t.String())),
  error: t.Optional(t.Nullable(t.String())),
})

export const health = t.Object({
  status: t.Union([t.Literal('healthy'), t.Literal('degraded'), t.Literal('unhealthy')]),
  timestamp: t.String(),
  upstreams: t.Array(upstreamHealth),
})

export type UpstreamHealth = typeof upstreamHealth.static
