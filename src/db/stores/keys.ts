// The API-keys store's interface and types. It lives in src/db/stores/ rather than src/keys/ because
// the store implementations (src/db/sqlite/, src/db/postgres/) sit below the runtime, which every feature imports:
// src/db importing src/keys would be an import cycle (test/import-cycles.test.ts).

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
}

export type NewApiKey = { userId: string; name: string; prefix: string; keyHash: string; expiresAt: number | null }

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
}
