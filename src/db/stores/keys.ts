// The API-keys store's interface and types. It lives in src/db/stores/ rather than src/keys/ because
// the store implementations (src/db/sqlite/, src/db/postgres/) sit below the runtime, which every feature imports:
// src/db importing src/keys would be an import cycle (test/import-cycles.test.ts).

/**
 * What a key may do: call the /v1 APIs (`inference`), read its user's own dashboard, logs and
 * conversations (`read`), manage its user's keys and account (`manage`), reach the admin routes
 * (`admin`, on an admin's account only).
 */
export type Scope = 'inference' | 'read' | 'manage' | 'admin'

export const SCOPES: readonly Scope[] = ['inference', 'read', 'manage', 'admin']

/** The rate-limit groups a key may have limits of its own in: those that count a signed-in caller (src/ratelimit/). */
export type KeyRateLimitGroup = 'chat' | 'dashboard' | 'models' | 'embeddings' | 'images'

export const KEY_RATE_LIMIT_GROUPS: readonly KeyRateLimitGroup[] = ['chat', 'dashboard', 'models', 'embeddings', 'images']

/** Requests per minute per group, for the groups a key is limited in. */
export type KeyRateLimits = Partial<Record<KeyRateLimitGroup, number>>

/** A key's own limits, applied besides its user's; null: none of that kind. */
export type KeyLimits = {
  rateLimits: KeyRateLimits | null
  /** Prompt and completion tokens of its requests over a sliding minute. */
  tokensPerMinute: number | null
}

/** A key as stored, without its secret: only the secret's SHA-256 is kept. Times in ms. */
export type StoredApiKey = {
  id: string
  userId: string
  name: string
  /** The first characters of the key, to recognise it in lists. */
  prefix: string
  createdAt: number
  lastUsedAt: number | null
  expiresAt: number | null
  /** Null: a key made before scopes existed, with every power of its user. */
  scopes: Scope[] | null
  /** Names or globs of the models it may use; null: every model. */
  models: string[] | null
} & KeyLimits

/** `scopes` null only for a key made as before scopes existed (tests of such keys, copies of old rows). */
export type NewApiKey = { userId: string; name: string; prefix: string; keyHash: string; expiresAt: number | null; scopes: Scope[] | null; models: string[] | null } & Partial<KeyLimits>

export interface KeyStore {
  /**
   * Stores the key unless its user already has `limit` keys that are not revoked; undefined then.
   * The check and the insert are one step, so concurrent creations never pass the limit.
   */
  insertBelowLimit(key: NewApiKey, limit: number, now: number): Promise<StoredApiKey | undefined>
  /** The user's keys that are not revoked, newest first (expired ones included, so they can be cleaned up). */
  listLive(userId: string): Promise<StoredApiKey[]>
  /** How many keys the user has that are not revoked (expired ones included). */
  countLive(userId: string): Promise<number>
  /** Revokes one of the user's own keys; false when the user has no such live key. */
  revoke(userId: string, id: string, now: number): Promise<boolean>
  /**
   * Sets a key's own limits (revoked or not): those in `change` (null clears one), the others kept.
   * Its user and its limits before, or undefined when no key has this id.
   */
  setLimits(id: string, change: Partial<KeyLimits>): Promise<{ userId: string; before: KeyLimits } | undefined>
}

/** A key's limits as both stores keep them: the rate limits as JSON text (as its scopes), the tokens per minute as an integer. */
export const keyLimitsFromRow = (rateLimits: string | null, tokensPerMinute: number | null): KeyLimits => ({
  rateLimits: rateLimits === null ? null : (JSON.parse(rateLimits) as KeyRateLimits),
  tokensPerMinute,
})

export const rateLimitsText = (limits: Partial<KeyLimits>) => (limits.rateLimits ? JSON.stringify(limits.rateLimits) : null)

/** A key holder's limits: present only when the key has some (most keys have none). */
export const heldKeyLimits = (rateLimits: string | null, tokensPerMinute: number | null): { keyLimits?: KeyLimits } =>
  rateLimits === null && tokensPerMinute === null ? {} : { keyLimits: keyLimitsFromRow(rateLimits, tokensPerMinute) }
