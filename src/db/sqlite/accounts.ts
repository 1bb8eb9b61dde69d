// The accounts store on SQLite: users, identities, sessions and refresh tokens. Statements are
// prepared once, with the store: the principal lookups run on every request. Sign-in writes
// retry while another process holds the write lock (retryWhileBusy: then a 503), each
// transaction whole; bookkeeping (last seen, last used) goes through the deferred writes.
import { jsonList } from '../json-list'
import { heldKeyLimits } from '../stores/keys'
import type { Database } from 'bun:sqlite'
import { retryWhileBusy } from '../busy'
import { deferredWrites } from './deferred'
import type { AccountStore, ApiKeyHolder, NewRefreshToken, NewSession, NewUser, RefreshToken, Role, SessionHolder, User, UserDeletion } from '../stores/accounts'
import { revokeCredentials } from './credentials'

type UserRow = {
  id: string
  email: string
  password_hash: string | null
  name: string
  avatar_url: string | null
  provider: string
  role: Role
  is_active: number
  email_verified: number
  created_at: number
  last_login_at: number | null
}

const userOf = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  passwordHash: row.password_hash,
  name: row.name,
  avatarUrl: row.avatar_url,
  provider: row.provider,
  role: row.role,
  isActive: row.is_active === 1,
  emailVerified: row.email_verified === 1,
  createdAt: row.created_at,
  lastLoginAt: row.last_login_at,
})

const maybeUser = (row: UserRow | null) => (row ? userOf(row) : undefined)

type RefreshTokenRow = { session_id: string; user_id: string; expires_at: number; used_at: number | null; revoked_at: number | null }
type HolderRow = { id: string; email: string; role: Role; is_active: number; max_concurrent_requests: number | null }
type SessionHolderRow = HolderRow & { revoked_at: number | null }
type ApiKeyHolderRow = HolderRow & { key_id: string; key_hash: string; expires_at: number | null; revoked_at: number | null; last_used_at: number | null; scopes: string | null; models: string | null; key_max_concurrent_requests: number | null; rate_limits: string | null; tokens_per_minute: number | null }

export function sqliteAccounts(db: Database): AccountStore {
  const userById = db.query<UserRow, [string]>('SELECT * FROM users WHERE id = ?')
  const userByEmail = db.query<UserRow, [string]>('SELECT * FROM users WHERE email = ?')
  const userByIdentity = db.query<UserRow, [string, string]>(
    'SELECT u.* FROM identities i JOIN users u ON u.id = i.user_id WHERE i.provider = ? AND i.subject = ?',
  )
  const insertUser = db.query<UserRow, [string, string, string | null, string, string | null, string, Role, number, number]>(
    `INSERT INTO users (id, email, password_hash, name, avatar_url, provider, role, email_verified, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING *`,
  )
  const fillProfile = db.query(
    `UPDATE users SET name = CASE WHEN name = '' THEN coalesce(?, '') ELSE name END,
                      avatar_url = coalesce(avatar_url, ?)
      WHERE id = ?`,
  )
  const linkIdentity = db.query(
    'INSERT INTO identities (provider, subject, user_id, email, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  )
  const promote = db.query(
    `UPDATE users SET role = 'admin', is_active = 1, email_verified = 1, password_hash = ?, name = coalesce(?, name) WHERE id = ?`,
  )
  const claim = db.query('UPDATE users SET password_hash = NULL, email_verified = 1 WHERE id = ?')
  const recordLogin = db.query('UPDATE users SET last_login_at = ? WHERE id = ?')
  const otherActiveAdmins = db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM users WHERE role = 'admin' AND is_active = 1 AND id <> ?")
  const removeUser = db.query('DELETE FROM users WHERE id = ?')
  // IMMEDIATE: the write lock is taken before the count, so no other process changes the admins in between.
  const deleteUser = db.transaction((id: string): UserDeletion => {
    const user = maybeUser(userById.get(id))
    if (!user) return { outcome: 'not_found' }
    if (user.role === 'admin' && user.isActive && otherActiveAdmins.get(id)!.n === 0) return { outcome: 'last_admin' }
    removeUser.run(id)
    return { outcome: 'deleted', user }
  }).immediate

  const insertSession = db.query(
    `INSERT INTO sessions (id, user_id, provider, ip, user_agent, country, created_at, last_seen_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertRefreshToken = db.query('INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
  const refreshTokenByHash = db.query<RefreshTokenRow, [string]>(
    `SELECT r.session_id, s.user_id, r.expires_at, r.used_at, s.revoked_at
       FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
      WHERE r.token_hash = ?`,
  )
  const spendRefreshToken = db.query('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL')
  const dropExpiredRefreshTokens = db.query('DELETE FROM refresh_tokens WHERE session_id = ? AND expires_at <= ?')
  const revokeSession = db.query('UPDATE sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?')
  const touchSession = db.query('UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE id = ?')

  const sessionHolder = db.query<SessionHolderRow, [string, string]>(
    `SELECT u.id, u.email, u.role, u.is_active, u.max_concurrent_requests, s.revoked_at
       FROM users u JOIN sessions s ON s.user_id = u.id
      WHERE u.id = ? AND s.id = ?`,
  )
  const apiKeyHolder = db.query<ApiKeyHolderRow, [string]>(
    `SELECT u.id, u.email, u.role, u.is_active, u.max_concurrent_requests, k.id AS key_id, k.key_hash, k.expires_at, k.revoked_at, k.last_used_at, k.scopes, k.models,
              k.max_concurrent_requests AS key_max_concurrent_requests, k.rate_limits, k.tokens_per_minute
       FROM api_keys k JOIN users u ON u.id = k.user_id
      WHERE k.key_hash = ?`,
  )
  const recordApiKeyUse = db.query('UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND coalesce(last_used_at, 0) < ?1 - 60000')

  const addRefreshToken = (sessionId: string, token: NewRefreshToken, now: number) =>
    insertRefreshToken.run(token.hash, sessionId, now, token.expiresAt)

  const startSession = db.transaction((session: NewSession, refreshToken: NewRefreshToken, now: number): string => {
    const id = Bun.randomUUIDv7()
    insertSession.run(id, session.userId, session.provider, session.ip, session.userAgent, session.country, now, now)
    recordLogin.run(now, session.userId)
    addRefreshToken(id, refreshToken, now)
    return id
  })

  /** Spends the token (or, if it was spent already, revokes its session); false unless the caller may go on. */
  const spendOrRevoke = (token: RefreshToken, hash: string, now: number): boolean => {
    if (token.usedAt === null) {
      const spent = spendRefreshToken.run(now, hash).changes === 1
      dropExpiredRefreshTokens.run(token.sessionId, now)
      if (spent) return true
    }
    revokeSession.run(now, token.sessionId)
    return false
  }

  return {
    async findUserById(id) {
      return maybeUser(userById.get(id))
    },
    async findUserByEmail(email) {
      return maybeUser(userByEmail.get(email))
    },
    async findUserByIdentity(provider, subject) {
      return maybeUser(userByIdentity.get(provider, subject))
    },
    async insertUser(user: NewUser, now) {
      return maybeUser(
        await retryWhileBusy(() =>
          insertUser.get(
            Bun.randomUUIDv7(),
            user.email,
            user.passwordHash,
            user.name,
            user.avatarUrl,
            user.provider,
            user.role,
            user.emailVerified ? 1 : 0,
            now,
          ),
        ),
      )
    },
    async fillProfile(userId, name, avatarUrl) {
      await retryWhileBusy(() => fillProfile.run(name, avatarUrl, userId))
    },
    async linkIdentity(identity, now) {
      await retryWhileBusy(() => linkIdentity.run(identity.provider, identity.subject, identity.userId, identity.email, now))
    },
    async promoteToAdmin(userId, change, now) {
      db.transaction(() => {
        promote.run(change.passwordHash, change.name ?? null, userId)
        revokeCredentials(db, userId, now)
      })()
    },
    async claimUnverifiedAccount(userId, now) {
      await retryWhileBusy(
        db.transaction(() => {
          claim.run(userId)
          revokeCredentials(db, userId, now)
        }),
      )
    },

    async deleteUser(userId) {
      return retryWhileBusy(() => deleteUser(userId))
    },

    async startSession(session, refreshToken, now) {
      return retryWhileBusy(() => startSession(session, refreshToken, now))
    },
    async findRefreshToken(hash): Promise<RefreshToken | undefined> {
      const row = refreshTokenByHash.get(hash)
      return row
        ? { sessionId: row.session_id, userId: row.user_id, expiresAt: row.expires_at, usedAt: row.used_at, sessionRevokedAt: row.revoked_at }
        : undefined
    },
    async rotateRefreshToken(token, hash, next, now) {
      const user = maybeUser(userById.get(token.userId))
      const rotation = await retryWhileBusy(
        db.transaction(() => {
          // A spent token presented again means it was copied: the family ends for everyone holding it.
          if (!spendOrRevoke(token, hash, now)) return { outcome: 'reused' as const }
          if (token.expiresAt <= now || !user?.isActive) return { outcome: 'refused' as const }
          addRefreshToken(token.sessionId, next, now)
          return { outcome: 'rotated' as const, user }
        }),
      )
      if (rotation.outcome === 'rotated')
        deferredWrites(db).add(() => touchSession.run(now, token.sessionId), `sessions.last_seen_at ${token.sessionId}`)
      return rotation
    },
    async revokeSession(sessionId, now) {
      await retryWhileBusy(() => revokeSession.run(now, sessionId))
    },

    async sessionHolder(userId, sessionId): Promise<SessionHolder | undefined> {
      const row = sessionHolder.get(userId, sessionId)
      return row
        ? { userId: row.id, email: row.email, role: row.role, isActive: row.is_active === 1, sessionRevokedAt: row.revoked_at, maxConcurrentRequests: row.max_concurrent_requests }
        : undefined
    },
    async apiKeyHolder(keyHash): Promise<ApiKeyHolder | undefined> {
      const row = apiKeyHolder.get(keyHash)
      if (!row) return undefined
      return {
        userId: row.id,
        email: row.email,
        role: row.role,
        isActive: row.is_active === 1,
        keyId: row.key_id,
        keyHash: row.key_hash,
        expiresAt: row.expires_at,
        revokedAt: row.revoked_at,
        lastUsedAt: row.last_used_at,
        scopes: jsonList(row.scopes),
        models: jsonList(row.models),
        maxConcurrentRequests: row.max_concurrent_requests,
        keyMaxConcurrentRequests: row.key_max_concurrent_requests,
        ...heldKeyLimits(row.rate_limits, row.tokens_per_minute),
      }
    },
    recordApiKeyUse(keyId, now) {
      deferredWrites(db).add(() => recordApiKeyUse.run(now, keyId), `api_keys.last_used_at ${keyId}`)
    },
  }
}
