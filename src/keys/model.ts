// Request and response schemas of the API-keys API.
import { t } from 'elysia'
import { isoTime } from '../auth/model'
import { integer, iso, oneOf } from '../http/schema'
import { KEY_RATE_LIMIT_GROUPS, SCOPES, type KeyRateLimitGroup, type StoredApiKey } from '../db/stores/keys'

const scope = oneOf(SCOPES)

/** Bounds of a key's own limits: at least one request (or token) a minute; the tops only keep the numbers sane. */
export const MAX_RATE_LIMIT = 1_000_000
export const MAX_TOKENS_PER_MINUTE = 1_000_000_000

const requestsPerMinute = (group: KeyRateLimitGroup) =>
  t.Optional(integer({ minimum: 1, maximum: MAX_RATE_LIMIT, error: `rateLimits.${group} must be a whole number of requests per minute from 1 to ${MAX_RATE_LIMIT}` }))

/** A key's own requests per minute, per group; besides its user's limits, the stricter wins. */
export const KeyRateLimitsSchema = t.Object(
  {
    chat: requestsPerMinute('chat'),
    dashboard: requestsPerMinute('dashboard'),
    models: requestsPerMinute('models'),
    embeddings: requestsPerMinute('embeddings'),
    images: requestsPerMinute('images'),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'Requests per minute of this key, per group of routes (such as {"chat": 20, "embeddings": 100}), applied besides its user\'s limits',
    error: `rateLimits must map one or more groups among ${KEY_RATE_LIMIT_GROUPS.join(', ')} to whole requests per minute from 1 to ${MAX_RATE_LIMIT}`,
  },
)

export const TokensPerMinuteSchema = integer({
  minimum: 1,
  maximum: MAX_TOKENS_PER_MINUTE,
  description: 'Prompt and completion tokens this key may use over a sliding minute; a request arriving past it gets 429',
  error: `tokensPerMinute must be a whole number of tokens from 1 to ${MAX_TOKENS_PER_MINUTE}`,
})

export const NewKeyRequest = t.Object({
  name: t.String({ minLength: 1, maxLength: 100, description: 'What the key is for' }),
  expiresAt: t.Optional(t.String({ format: 'date-time', description: 'ISO time in the future; no expiry when left out' })),
  scopes: t.Optional(
    t.Array(scope, {
      minItems: 1,
      maxItems: SCOPES.length,
      uniqueItems: true,
      description: 'What the key may do: inference (the /v1 APIs), read (your dashboard, logs, conversations), manage (your keys and account), admin (admin accounts only). Default: inference and read',
      error: `scopes must be a non-empty list of distinct scopes among ${SCOPES.join(', ')}`,
    }),
  ),
  models: t.Optional(
    t.Array(t.String({ minLength: 1, maxLength: 200 }), {
      minItems: 1,
      maxItems: 50,
      description: 'The models the key may use: names or globs (`*`, `?`), such as "llama3.2" or "qwen*". Default: every model',
      error: 'models must be a list of 1 to 50 model names or globs of at most 200 characters',
    }),
  ),
  rateLimits: t.Optional(KeyRateLimitsSchema),
  tokensPerMinute: t.Optional(TokensPerMinuteSchema),
}, {
  // Swagger UI's "Try it out" body. Without it Swagger fills expiresAt with the time the page was
  // opened, which is in the past by the time it is sent.
  examples: [{ name: 'my laptop' }],
})

export const ApiKey = t.Object({
  id: t.String(),
  name: t.String(),
  prefix: t.String({ description: 'The first characters of the key, to recognise it' }),
  createdAt: isoTime,
  lastUsedAt: t.Nullable(isoTime),
  expiresAt: t.Nullable(isoTime),
  scopes: t.Nullable(t.Array(t.String()), { description: 'What the key may do; null for a full-power key' }),
  models: t.Nullable(t.Array(t.String()), { description: 'The models it may use; null for every model' }),
  fullPower: t.Boolean({ description: 'Made before keys had scopes: it may do whatever its user may' }),
  rateLimits: t.Nullable(t.Record(t.String(), t.Number()), { description: 'Its own requests per minute per group; null for none' }),
  tokensPerMinute: t.Nullable(t.Number(), { description: 'Its own tokens per minute; null for none' }),
})

export const CreatedApiKey = t.Composite([
  ApiKey,
  t.Object({ key: t.String({ description: 'The secret (sk-studio-…), shown only in this response' }) }),
])

export const ApiKeyList = t.Object({ data: t.Array(ApiKey) })

export const apiKeyView = (key: StoredApiKey): typeof ApiKey.static => ({
  id: key.id,
  name: key.name,
  prefix: key.prefix,
  createdAt: iso(key.createdAt)!,
  lastUsedAt: iso(key.lastUsedAt),
  expiresAt: iso(key.expiresAt),
  scopes: key.scopes,
  models: key.models,
  fullPower: key.scopes === null,
  rateLimits: key.rateLimits,
  tokensPerMinute: key.tokensPerMinute,
})
