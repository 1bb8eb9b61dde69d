// The shapes of OpenAI's Responses API that the gateway accepts, as `t` schemas: the request
// (POST /v1/responses) and the query of the input-items list. Fields whose shape depends on a
// `type` (input items, tools, tool_choice, text.format, reasoning, conversation) are accepted
// here as JSON and checked by ./to-chat.ts, which names the exact field (`input.2.content.0.type`)
// where a TypeBox union could only say "expected union value".
import { t } from 'elysia'
import { integer, nullable } from '../http/schema'

const json = (description: string) => t.Optional(t.Any({ description }))

/** Input items a request may carry (each becomes a message upstream; the body limit bounds their size). */
export const MAX_INPUT_ITEMS = 2048
/** Tools a request may offer (as OpenAI's limit). */
export const MAX_TOOLS = 128

export const createResponseRequest = t.Object(
  {
    model: t.String({ minLength: 1, maxLength: 200, error: 'model must be a string of 1 to 200 characters' }),
    input: t.Optional(
      t.Union([t.String(), t.Array(t.Any(), { maxItems: MAX_INPUT_ITEMS })], {
        error: `input must be a string or an array of at most ${MAX_INPUT_ITEMS} input items (messages, function_call, function_call_output)`,
        description: 'a string (one user message), or input items: messages (input_text, input_image as a data URL, output_text parts), function_call, function_call_output',
      }),
    ),
    instructions: nullable(t.String({ error: 'instructions must be a string or null' })),
    tools: nullable(
      t.Array(t.Any(), { maxItems: MAX_TOOLS, error: `tools must be an array of at most ${MAX_TOOLS} function tools {type: 'function', name, parameters}` }),
    ),
    tool_choice: json("'none', 'auto', 'required' or {type: 'function', name}"),
    parallel_tool_calls: nullable(t.Boolean({ error: 'parallel_tool_calls must be a boolean' })),
    max_output_tokens: nullable(
      integer({ minimum: 1, maximum: 2 ** 31 - 1, error: 'max_output_tokens must be an integer from 1 to 2147483647' }),
    ),
    temperature: nullable(t.Number({ minimum: 0, maximum: 2, error: 'temperature must be a number from 0 to 2' })),
    top_p: nullable(t.Number({ minimum: 0, maximum: 1, error: 'top_p must be a number from 0 to 1' })),
    reasoning: json('an object such as {"effort": "low"}: the effort maps to the model\'s thinking'),
    text: json('an object such as {"format": {"type": "json_schema", "name": "…", "schema": {…}}}'),
    metadata: json('up to 16 string pairs (keys up to 64 characters, values up to 512), kept on the response and the request log'),
    user: nullable(t.String({ description: 'an id of your end user, at most 256 characters, recorded on the request log' })),
    store: nullable(t.Boolean({ error: 'store must be a boolean', description: 'keep the response for retrieval and chaining (default true)' })),
    previous_response_id: nullable(
      t.String({ minLength: 1, maxLength: 100, error: 'previous_response_id must be the id of one of your stored responses' }),
    ),
    conversation: json('a conversation id of yours (GET /api/conversations), or {"id": …}: its messages are the history, and this turn is added to it'),
    stream: nullable(t.Boolean({ error: 'stream must be a boolean' })),
    // Refused when set (./to-chat.ts): the gateway cannot do them, and silence would mislead.
    background: json('not supported (400 when true)'),
    prompt: json('not supported (400 when set): reusable prompts'),
    // Accepted and ignored, by being left out (Elysia drops fields the schema does not name):
    // include, truncation, service_tier, safety_identifier, prompt_cache_key, top_logprobs,
    // max_tool_calls, stream_options. See the README.
  },
  {
    examples: [{ model: 'llama3.2', input: 'Say hello in one short sentence.', instructions: 'Be brief.', stream: false }],
  },
)

export type CreateResponseRequest = typeof createResponseRequest.static

/** A response id as the gateway makes them. */
export const responseIdParams = t.Object({
  id: t.String({ minLength: 1, maxLength: 100, error: 'id must be a response id (resp_…)' }),
})

export const inputItemsQuery = t.Object({
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, error: 'limit must be an integer from 1 to 100' })),
  order: t.Optional(t.Union([t.Literal('asc'), t.Literal('desc')], { error: "order must be 'asc' or 'desc'" })),
  after: t.Optional(t.String({ maxLength: 100, error: 'after must be an item id from a page before' })),
  include: t.Optional(t.Any({ description: 'accepted and ignored' })),
})
