// Request and response schemas of the API-keys API.
import { t } from 'elysia'
import { isoTime } from '../auth/model'
import { iso, oneOf } from '../http/schema'
import { SCOPES, type StoredApiKey } from '../db/stores/keys'

const scope = oneOf(SCOPES)

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
})
