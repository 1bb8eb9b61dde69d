// The request Anthropic's Messages API takes (POST /v1/messages), as a `t` schema: validated
// before the handler runs, so a bad field is a 400 naming it (in Anthropic's error envelope, see
// src/http/errors.ts). What the schema cannot check (base64 images, tool inputs, JSON Schemas,
// fields that depend on each other, the parts of Anthropic's API the gateway cannot serve) is
// checked in ./to-chat.ts, naming the field as the client wrote it.
import { t } from 'elysia'
import { integer, nullable } from '../http/schema'

/**
 * A field Anthropic defines that the gateway cannot honour: accepted by the schema as anything,
 * so that ./to-chat.ts answers a 400 saying it is unsupported, rather than dropping it silently.
 */
const unsupported = (what: string) => nullable(t.Any({ description: `not supported (400 when set): ${what}` }))

/** Objects of optional fields are checked in ./to-chat.ts: Elysia turns any non-object into {} for them. */
const objectChecked = (description: string) => t.Optional(t.Any({ description }))

const textBlock = t.Object({ type: t.Literal('text'), text: t.String() })

const imageBlock = t.Object({
  type: t.Literal('image'),
  source: t.Object(
    {
      type: t.String({ description: '"base64" (the only one served: remote URLs and files are not fetched)' }),
      media_type: t.Optional(t.String({ description: 'image/jpeg, image/png, image/gif or image/webp' })),
      data: t.Optional(t.String({ description: 'the image, base64-encoded' })),
    },
    { error: 'an image source must be {type: "base64", media_type, data}' },
  ),
})

const toolUseBlock = t.Object({
  type: t.Literal('tool_use'),
  id: t.String({ minLength: 1, maxLength: 256 }),
  name: t.String({ minLength: 1, maxLength: 128 }),
  input: t.Any({ description: 'the tool input, a JSON object' }),
})

const toolResultBlock = t.Object({
  type: t.Literal('tool_result'),
  tool_use_id: t.String({ minLength: 1, maxLength: 256 }),
  content: t.Optional(
    t.Union([t.String(), t.Array(t.Union([textBlock, imageBlock]))], {
      error: 'a tool_result content must be a string or an array of text and image blocks',
    }),
  ),
  is_error: t.Optional(t.Boolean()),
})

// Thinking passed back in an assistant turn: dropped on the way to Ollama (./to-chat.ts).
const thinkingBlock = t.Object({ type: t.Literal('thinking'), thinking: t.String(), signature: t.Optional(t.String()) })
const redactedThinkingBlock = t.Object({ type: t.Literal('redacted_thinking'), data: t.String() })

export const BLOCK_TYPES = 'text, image, tool_use, tool_result, thinking or redacted_thinking'

const contentBlock = t.Union([textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock])

const message = t.Object({
  // `system` among the messages is what Anthropic's newest API allows beside the top-level `system`.
  role: t.Union([t.Literal('user'), t.Literal('assistant'), t.Literal('system')], { error: 'role must be user, assistant or system' }),
  content: t.Union([t.String(), t.Array(contentBlock)], {
    error: `content must be a string or an array of content blocks of type ${BLOCK_TYPES} (documents, search results and server-tool blocks are not supported)`,
  }),
})

const tool = t.Object({
  name: t.String({ minLength: 1, maxLength: 128, error: 'a tool name must be a string of 1 to 128 characters' }),
  description: t.Optional(t.String()),
  input_schema: t.Optional(t.Any({ description: "a JSON Schema object of the tool's input" })),
  // Anthropic's server tools (web_search_…, bash_…, code_execution_…) have a type; custom tools none, or "custom".
  type: nullable(t.String({ maxLength: 64 })),
})

const disableParallel = t.Optional(t.Boolean({ error: 'disable_parallel_tool_use must be a boolean' }))

const toolChoice = t.Union(
  [
    t.Object({ type: t.Literal('auto'), disable_parallel_tool_use: disableParallel }),
    t.Object({ type: t.Literal('any'), disable_parallel_tool_use: disableParallel }),
    t.Object({ type: t.Literal('tool'), name: t.String({ minLength: 1 }), disable_parallel_tool_use: disableParallel }),
    t.Object({ type: t.Literal('none') }),
  ],
  { error: "tool_choice must be {type: 'auto'}, {type: 'any'}, {type: 'tool', name} or {type: 'none'}" },
)

const display = nullable(t.Union([t.Literal('summarized'), t.Literal('omitted')], { error: 'thinking.display must be summarized or omitted' }))

const thinking = t.Union(
  [
    t.Object({
      type: t.Literal('enabled'),
      budget_tokens: integer({ minimum: 1024, maximum: 2 ** 31 - 1, error: 'thinking.budget_tokens must be an integer of at least 1024' }),
      display,
    }),
    t.Object({ type: t.Literal('disabled') }),
    t.Object({ type: t.Literal('adaptive'), display }),
    t.Object({ type: t.Literal('between_tools') }),
  ],
  { error: "thinking must be {type: 'enabled', budget_tokens}, {type: 'adaptive'}, {type: 'between_tools'} or {type: 'disabled'}" },
)

export const messagesRequest = t.Object(
  {
    model: t.String({ minLength: 1, maxLength: 200, error: 'model must be a string of 1 to 200 characters' }),
    max_tokens: integer({ minimum: 1, maximum: 2 ** 31 - 1, error: 'max_tokens must be an integer from 1 to 2147483647 (it is required)' }),
    messages: t.Array(message, { minItems: 1, error: 'messages must be a non-empty array of {role, content}' }),
    system: t.Optional(
      t.Union([t.String(), t.Array(textBlock)], { error: 'system must be a string or an array of text blocks' }),
    ),
    stream: nullable(t.Boolean({ error: 'stream must be a boolean' })),
    temperature: nullable(t.Number({ minimum: 0, maximum: 1, error: 'temperature must be a number from 0 to 1' })),
    top_p: nullable(t.Number({ minimum: 0, maximum: 1, error: 'top_p must be a number from 0 to 1' })),
    top_k: nullable(integer({ minimum: 0, maximum: 2 ** 31 - 1, error: 'top_k must be an integer of at least 0' })),
    stop_sequences: nullable(
      t.Array(t.String({ minLength: 1 }), { maxItems: 16, error: 'stop_sequences must be an array of at most 16 non-empty strings' }),
    ),
    tools: nullable(t.Array(tool, { maxItems: 128, error: 'tools must be an array of at most 128 {name, description?, input_schema}' })),
    tool_choice: nullable(toolChoice),
    thinking: nullable(thinking),
    output_config: objectChecked('{effort?: low|medium|high|xhigh|max, format?: {type: "json_schema", schema}}'),
    metadata: objectChecked('{user_id?}: user_id (at most 256 characters) is recorded on the request log'),
    container: unsupported('code-execution containers'),
    mcp_servers: unsupported('MCP servers called by the API'),
    // Accepted and ignored, by being left out here (Elysia drops fields the schema does not name):
    // cache_control (Ollama keeps its own prompt cache), service_tier, speed, inference_geo,
    // diagnostics, and context_management (server-side clearing of old tool results: Claude Code
    // sends it by default, and refusing it would refuse Claude Code; the whole context is sent). The anthropic-version and anthropic-beta headers are accepted and ignored too.
  },
  {
    // Swagger UI's "Try it out" body: a request that works as shown.
    examples: [{ model: 'llama3.2', max_tokens: 256, messages: [{ role: 'user', content: 'Say hello in one short sentence.' }] }],
  },
)

export type MessagesRequest = typeof messagesRequest.static
export type AnthropicMessage = MessagesRequest['messages'][number]
export type ContentBlock = Exclude<AnthropicMessage['content'], string>[number]
