// The shape of OpenAI's embeddings request as the gateway accepts it, as a `t` schema: checked
// before the handler runs, so a bad field is a 400 naming it (and never echoing it back).
import { t } from 'elysia'
import { integer, nullable } from '../http/schema'

/** OpenAI's own bound on the inputs of one request. */
export const MAX_INPUTS = 2048

/**
 * One input's bound, in characters: about 32k tokens, the longest context of common embedding
 * models. Ollama truncates a longer text to the model's context anyway (as its own /v1/embeddings
 * does); the bound keeps one request's work in proportion. MAX_BODY_BYTES bounds the whole body.
 */
export const MAX_INPUT_CHARACTERS = 131_072

const text = t.String({ minLength: 1, maxLength: MAX_INPUT_CHARACTERS })

export const embeddingRequest = t.Object(
  {
    model: t.String({ minLength: 1, maxLength: 200, error: 'model must be a string of 1 to 200 characters' }),
    // Token arrays (OpenAI also takes arrays of token ids) fail here: Ollama's /api/embed takes text.
    input: t.Union([text, t.Array(text, { minItems: 1, maxItems: MAX_INPUTS })], {
      description: `the text to embed: a string, or an array of 1 to ${MAX_INPUTS} strings (one embedding each)`,
      error:
        `input must be a string or an array of 1 to ${MAX_INPUTS} strings, each of 1 to ${MAX_INPUT_CHARACTERS} characters; ` +
        'token arrays are not accepted, since Ollama embeds text: send the text itself',
    }),
    dimensions: nullable(
      integer({
        minimum: 1,
        maximum: 65_536,
        description: "the embedding's length: Ollama keeps its first `dimensions` values and normalises them again (a model's own length when larger)",
        error: 'dimensions must be an integer from 1 to 65536',
      }),
    ),
    encoding_format: nullable(
      t.Union([t.Literal('float'), t.Literal('base64')], {
        description: '`float` (default): arrays of numbers; `base64`: the little-endian float32 bytes of each embedding, base64-encoded',
        error: "encoding_format must be 'float' or 'base64'",
      }),
    ),
    user: nullable(t.String({ error: 'user must be a string' })),
  },
  {
    // Swagger UI's "Try it out" body: a request that works as shown.
    examples: [{ model: 'nomic-embed-text', input: ['The quick brown fox', 'jumps over the lazy dog'], encoding_format: 'float' }],
  },
)

export type EmbeddingRequest = typeof embeddingRequest.static
