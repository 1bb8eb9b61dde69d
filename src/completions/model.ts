// The request /v1/completions accepts: OpenAI's legacy text completion request, as a `t` schema
// (validated before the handler runs, so a bad field is a 400 naming it). What the schema cannot
// say — a prompt of token ids, several prompts, parameters Ollama cannot honour — is refused by
// the mapping to Ollama (./to-ollama.ts), naming the field.
import { t } from 'elysia'
import { integer, nullable } from '../http/schema'

/** Integers past 2^53 lose their value in JSON, and Ollama reads these into Go ints. */
const MAX_INTEGER = Number.MAX_SAFE_INTEGER

/** OpenAI takes at most 4 stop sequences; a sequence longer than this stops nothing a model writes. */
export const MAX_STOP_LENGTH = 1000

export const completionRequest = t.Object(
  {
    model: t.String({ minLength: 1, maxLength: 200, error: 'model must be a string of 1 to 200 characters' }),
    // The array forms are checked in to-ollama.ts: one string is taken, anything else is refused with its reason.
    prompt: t.Union([t.String(), t.Array(t.Union([t.String(), t.Number(), t.Array(t.Number())]))], {
      error: 'prompt must be a string, or an array of exactly one string',
    }),
    suffix: nullable(t.String({ error: 'suffix must be a string (the text after the insertion point)' })),
    max_tokens: nullable(integer({ minimum: 1, maximum: 2 ** 31 - 1, error: 'max_tokens must be an integer from 1 to 2147483647' })),
    stop: nullable(
      t.Union([t.String({ maxLength: MAX_STOP_LENGTH }), t.Array(t.String({ maxLength: MAX_STOP_LENGTH }), { maxItems: 4 })], {
        error: `stop must be a string or an array of at most 4 strings, each of at most ${MAX_STOP_LENGTH} characters`,
      }),
    ),
    temperature: nullable(t.Number({ minimum: 0, maximum: 2, error: 'temperature must be a number from 0 to 2' })),
    top_p: nullable(t.Number({ minimum: 0, maximum: 1, error: 'top_p must be a number from 0 to 1' })),
    seed: nullable(integer({ minimum: -MAX_INTEGER, maximum: MAX_INTEGER, error: 'seed must be an integer of at most 2^53 - 1 in size' })),
    presence_penalty: nullable(t.Number({ minimum: -2, maximum: 2, error: 'presence_penalty must be a number from -2 to 2' })),
    frequency_penalty: nullable(t.Number({ minimum: -2, maximum: 2, error: 'frequency_penalty must be a number from -2 to 2' })),
    logprobs: nullable(integer({ minimum: 0, maximum: 5, error: 'logprobs must be an integer from 0 to 5 (the number of alternatives per token)' })),
    stream: nullable(t.Boolean()),
    // Checked in to-ollama.ts: Elysia turns any non-object into {} for an object of optional fields.
    stream_options: t.Optional(t.Any({ description: 'an object such as {"include_usage": true}, or null' })),
    n: nullable(integer({ minimum: 1, maximum: 1, error: 'n must be 1: Ollama returns one completion per request' })),
    // Refused in to-ollama.ts when set to something Ollama cannot do, with the reason.
    echo: nullable(t.Boolean({ description: 'only false: echoing the prompt is not supported' })),
    best_of: nullable(integer({ minimum: 0, maximum: 20, description: 'only 1: Ollama returns one completion per request', error: 'best_of must be an integer from 0 to 20' })),
    logit_bias: t.Optional(t.Any({ description: 'only null or {}: Ollama has no logit bias' })),
    user: nullable(t.String({ maxLength: 256, error: 'user must be a string of at most 256 characters' })),
  },
  {
    // Swagger UI's "Try it out" body: a request that works as shown.
    examples: [{ model: 'llama3.2', prompt: 'Once upon a time', max_tokens: 32, temperature: 0.7, stream: false }],
  },
)

export type CompletionRequest = typeof completionRequest.static
