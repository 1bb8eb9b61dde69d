// Request and response schemas of the API-keys API.
import { t } from 'elysia'
import { isoTime } from '../auth/model'
import { iso } from '../http/schema'
import type { StoredApiKey } from '../db/stores/keys'

export const NewKeyRequest = t.Object({
  name: t.String({ minLength: 1, maxLength: 100, description: 'What the key is for' }),
  expiresAt: t.Optional(t.String({ format: 'date-time', description: 'ISO time in the future; no expiry when left out' })),
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
})
