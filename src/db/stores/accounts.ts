// The accounts store's interface and types: users, the identity-provider accounts linked to
// them, sign-in sessions with their refresh tokens, and the lookups that tell who is calling.
// It lives in src/db/stores/ rather than src/auth/ because the store implementations
// (src/db/sqlite/, src/db/postgres/) sit below the runtime, which every feature imports: src/db importing
// src/auth would be an import cycle (test/import-cycles.test.ts); src/auth/store.ts re-exports it.
// Times in ms since the epoch.
import type { KeyLimits, Scope } from './keys'

export type Role = 'admin' | 'user'

export type User = {
  id: string
  email: string
  passwordHash: string | null
  name: string
  avatarUrl: string | null
  /** How the account was created: email, google, github, apple or oidc. */
  provider: string
  role: Role
  isActive: boolean
  /** True once an identity provider (or the operator) has proven the address. */
  emailVerified: boolean
  createdAt: number
  lastLoginAt: number | null
}

export type NewUser = Pick<User, 'email' | 'passwordHash' | 'name' | 'avatarUrl' | 'provider' | 'role' | 'emailVerified'>

/** Who signs in, and from where (the client's address, user agent and country, when known). */
export type NewSession = { userId: string; provider: string; ip: string | null; userAgent: string | null; country: string | null }

/** A refresh token to store: only its SHA-256 is kept. */
export type NewRefreshToken = { hash: string; expiresAt: number }

/** A stored refresh token with the state of its session (one session = one refresh-token family). */
export type RefreshToken = {
  sessionId: string
  userId: string
  expiresAt: number
  usedAt: number | null
  /** When the session (the whole family) was revoked; null while it lives. */
  sessionRevokedAt: number | null
}

/** What rotating a refresh token did: `rotated` stored its successor; otherwise none was stored. */
export type Rotation =
  | { outcome: 'rotated'; user: User }
  /** The token was already spent: it was copied, so the whole session is revoked. */
  | { outcome: 'reused' }
  /** The token was spent now, but it had expired or its user is deactivated (or gone). */
  | { outcome: 'refused' }

/** The user behind a session, with what decides whether the session still counts. */
/** `maxConcurrentRequests`: the user's cap on requests in progress set by an admin (null: MAX_CONCURRENT_REQUESTS; 0: none). */
export type SessionHolder = { userId: string; email: string; role: Role; isActive: boolean; sessionRevokedAt: number | null; maxConcurrentRequests: number | null }

/** The user behind an API key, with what decides whether the key still counts. */
export type ApiKeyHolder = {
  userId: string
  email: string
  role: Role
  isActive: boolean
  keyId: string
  keyHash: string
  expiresAt: number | null
  revokedAt: number | null
  lastUsedAt: number | null
  /** The key's scopes; null for a key made before scopes existed (every power of its user). */
  scopes: Scope[] | null
  /** The models it may use (names or globs); null for every model. */
  models: string[] | null
  /** The user's cap on requests in progress, as for a session. */
  maxConcurrentRequests: number | null
  /** The key's own cap (null: none beyond its user's). */
  keyMaxConcurrentRequests: number | null
  /** The key's own rate limits and tokens per minute; left out when it has none. */
  keyLimits?: KeyLimits
}

/** What deleting a user did: `last_admin` refused it (the only active admin stays). */
export type UserDeletion = { outcome: 'deleted'; user: User } | { outcome: 'last_admin' } | { outcome: 'not_found' }

export interface AccountStore {
  findUserById(id: string): Promise<User | undefined>
  /** By the canonical (trimmed, NFC, lower-case) email. */
  findUserByEmail(email: string): Promise<User | undefined>
  /** The user an identity-provider account is linked to. */
  findUserByIdentity(provider: string, subject: string): Promise<User | undefined>
  /** Inserts the user unless the email is taken; undefined on a taken email. */
  insertUser(user: NewUser, now: number): Promise<User | undefined>
  /** Fills a name or avatar the user does not have yet (a null leaves it as it is). */
  fillProfile(userId: string, name: string | null, avatarUrl: string | null): Promise<void>
  /** Links an identity-provider account to the user; nothing happens if it is linked already. */
  linkIdentity(identity: { provider: string; subject: string; userId: string; email: string | null }, now: number): Promise<void>
  /**
   * Makes the user an active admin with this password (and name, if given), its address verified,
   * and in the same transaction revokes every session and API key it had.
   */
  promoteToAdmin(userId: string, change: { passwordHash: string; name?: string }, now: number): Promise<void>
  /**
   * Marks the user's address verified and drops its password, revoking in the same transaction
   * every session and API key it had (an identity provider has just proven whose address it is).
   */
  claimUnverifiedAccount(userId: string, now: number): Promise<void>
  /**
   * Deletes the user, unless it is the last active admin (decided in the same transaction, so
   * two admins deleting each other at once cannot leave none). What belongs to the account goes
   * with it through the schema's ON DELETE CASCADE, each feature's rows by the rule its own
   * migration declares: identities, sessions and their refresh tokens, API keys, feedback,
   * conversations and their messages, stored responses, budgets and their spend. The request log and the audit trail hold
   * the id as plain text (no foreign key): that history stays.
   */
  deleteUser(userId: string): Promise<UserDeletion>

  /**
   * Starts a session: inserts it, records the user's login and stores its first refresh token,
   * all or nothing. Returns the session's id.
   */
  startSession(session: NewSession, refreshToken: NewRefreshToken, now: number): Promise<string>
  findRefreshToken(hash: string): Promise<RefreshToken | undefined>
  /**
   * Spends the refresh token `token` (found with `hash`) and stores `next` in its place, in one
   * transaction; the family's expired tokens are dropped. A token already spent revokes its
   * session. Bookkeeping: a rotation marks the session seen.
   */
  rotateRefreshToken(token: RefreshToken, hash: string, next: NewRefreshToken, now: number): Promise<Rotation>
  /** Revokes the session (its access and refresh tokens stop working); a revoked one keeps its time. */
  revokeSession(sessionId: string, now: number): Promise<void>

  /** Who holds this session of this user; undefined when there is no such session. Every request. */
  sessionHolder(userId: string, sessionId: string): Promise<SessionHolder | undefined>
  /** Who holds the API key with this SHA-256; undefined when there is none. Every request. */
  apiKeyHolder(keyHash: string): Promise<ApiKeyHolder | undefined>
  /**
   * Bookkeeping: the key was used at `now`. Kept to the minute (a use within a minute of the last
   * one recorded is not written); never fails nor delays the request.
   */
  recordApiKeyUse(keyId: string, now: number): void
}
