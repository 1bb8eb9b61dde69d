// The accounts store on PostgreSQL: users, identities, sessions and refresh tokens. Several
// replicas may write at once, so what is checked and then written is decided by the database:
// a taken email by the unique constraint, a refresh token's one use by a conditional UPDATE
// (of two rotations of one token only one spends it; the other revokes the session). The
// principal lookups run on every request, one indexed query each; bookkeeping (last seen, last
// used) goes through the background writes, which a request never waits for.
import { jsonList } from '../json-list'
import { heldKeyLimits } from '../stores/keys'
import type { SQL } from 'bun'
import type { AccountStore, ApiKeyHolder, NewRefreshToken, RefreshToken, Role, SessionHolder, User, UserDeletion } from '../stores/accounts'
import type { BackgroundWrites } from './background'
import { revokeCredentials } from './credentials'

type UserRow = {
  id: string
  email: string
  password_hash: string | null
  name: string
  avatar_url: string | null
  provider: string
  role: Role
  is_active: boolean
  email_verified: boolean
  created_at: Date
  last_login_at: Date | null
}

const userOf = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  passwordHash: row.password_hash,
  name: row.name,
  avatarUrl: row.avatar_url,
  provider: row.provider,
  role: row.role,
  isActive: row.is_active,
  emailVerified: row.email_verified,
  createdAt: row.created_at.getTime(),
  lastLoginAt: row.last_login_at?.getTime() ?? null,
})

const maybeUser = (rows: UserRow[]) => (rows[0] ? userOf(rows[0]) : undefined)

type RefreshTokenRow = { session_id: string; user_id: string; expires_at: Date; used_at: Date | null; revoked_at: Date | null }
type HolderRow = { id: string; email: string; role: Role; is_active: boolean; max_concurrent_requests: number | null }
type SessionHolderRow = HolderRow & { revoked_at: Date | null }
type ApiKeyHolderRow = HolderRow & { key_id: string; key_hash: string; expires_at: Date | null; revoked_at: Date | null; last_used_at: Date | null; scopes: string | null; models: string | null; key_max_concurrent_requests: number | null; rate_limits: string | null; tokens_per_minute: number | null }

/** How long a recorded use of an API key stands for the later ones. */
const USE_GRAIN_MS = 60_000
/** Past this many keys remembered, those whose minute is over are forgotten. */
const REMEMBERED_USES = 10_000

export function postgresAccounts(sql: SQL, background: BackgroundWrites): AccountStore {
  const addRefreshToken = (tx: SQL, sessionId: string, token: NewRefreshToken, now: number) =>
    tx`INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
       VALUES (${token.hash}, ${sessionId}, ${new Date(now)}, ${new Date(token.expiresAt)})`
  const revokeSession = (tx: SQL, sessionId: string, now: number) =>
    tx`UPDATE sessions SET revoked_at = coalesce(revoked_at, ${new Date(now)}) WHERE id = ${sessionId}`

  /**
   * When this process last recorded each key's use: a use within the minute writes nothing, so
   * that requests arriving together (before the first write is seen) make one write, not many.
   */
  const recordedUses = new Map<string, number>()
  const forgetPastUses = (now: number) => {
    for (const [keyId, at] of recordedUses) if (at < now - USE_GRAIN_MS) recordedUses.delete(keyId)
  }

  return {
    async findUserById(id) {
      return maybeUser(await sql<UserRow[]>`SELECT * FROM users WHERE id = ${id}`)
    },
    async findUserByEmail(email) {
      return maybeUser(await sql<UserRow[]>`SELECT * FROM users WHERE email = ${email}`)
    },
    async findUserByIdentity(provider, subject) {
      return maybeUser(
        await sql<UserRow[]>`SELECT u.* FROM identities i JOIN users u ON u.id = i.user_id
                              WHERE i.provider = ${provider} AND i.subject = ${subject}`,
      )
    },
    async insertUser(user, now) {
      // The unique email decides, not a look beforehand: of two inserts of one email, one gets nothing.
      return maybeUser(
        await sql<UserRow[]>`
          INSERT INTO users (id, email, password_hash, name, avatar_url, provider, role, email_verified, created_at)
          VALUES (${Bun.randomUUIDv7()}, ${user.email}, ${user.passwordHash}, ${user.name}, ${user.avatarUrl},
                  ${user.provider}, ${user.role}, ${user.emailVerified}, ${new Date(now)})
          ON CONFLICT (email) DO NOTHING RETURNING *`,
      )
    },
    async fillProfile(userId, name, avatarUrl) {
      await sql`UPDATE users SET name = CASE WHEN name = '' THEN coalesce(${name}::text, '') ELSE name END,
                                 avatar_url = coalesce(avatar_url, ${avatarUrl}::text)
                 WHERE id = ${userId}`
    },
    async linkIdentity(identity, now) {
      await sql`INSERT INTO identities (provider, subject, user_id, email, created_at)
                VALUES (${identity.provider}, ${identity.subject}, ${identity.userId}, ${identity.email}, ${new Date(now)})
                ON CONFLICT DO NOTHING`
    },
    async promoteToAdmin(userId, change, now) {
      await sql.begin(async (tx) => {
        await tx`UPDATE users SET role = 'admin', is_active = true, email_verified = true, password_hash = ${change.passwordHash},
                                  name = coalesce(${change.name ?? null}::text, name)
                  WHERE id = ${userId}`
        await revokeCredentials(tx, userId, now)
      })
    },
    async claimUnverifiedAccount(userId, now) {
      await sql.begin(async (tx) => {
        await tx`UPDATE users SET password_hash = NULL, email_verified = true WHERE id = ${userId}`
        await revokeCredentials(tx, userId, now)
      })
    },
    async deleteUser(userId) {
      return sql.begin(async (tx): Promise<UserDeletion> => {
        // The user and every active admin, locked in one order: of two admins deleting each other
        // at once, the second waits, then finds the first gone and itself the last active admin.
        const rows = await tx<UserRow[]>`SELECT * FROM users WHERE id = ${userId} OR (role = 'admin' AND is_active) ORDER BY id FOR UPDATE`
        const row = rows.find((candidate) => candidate.id === userId)
        if (!row) return { outcome: 'not_found' }
        const user = userOf(row)
        if (user.role === 'admin' && user.isActive && !rows.some((other) => other.id !== userId && other.role === 'admin' && other.is_active))
          return { outcome: 'last_admin' }
        await tx`DELETE FROM users WHERE id = ${userId}`
        return { outcome: 'deleted', user }
      })
    },

    async startSession(session, refreshToken, now) {
      const id = Bun.randomUUIDv7()
      await sql.begin(async (tx) => {
        await tx`INSERT INTO sessions (id, user_id, provider, ip, user_agent, country, created_at, last_seen_at)
                 VALUES (${id}, ${session.userId}, ${session.provider}, ${session.ip}, ${session.userAgent}, ${session.country},
                         ${new Date(now)}, ${new Date(now)})`
        await tx`UPDATE users SET last_login_at = ${new Date(now)} WHERE id = ${session.userId}`
        await addRefreshToken(tx, id, refreshToken, now)
      })
      return id
    },
    async findRefreshToken(hash): Promise<RefreshToken | undefined> {
      const [row] = await sql<RefreshTokenRow[]>`
        SELECT r.session_id, s.user_id, r.expires_at, r.used_at, s.revoked_at
          FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
         WHERE r.token_hash = ${hash}`
      return row
        ? {
            sessionId: row.session_id,
            userId: row.user_id,
            expiresAt: row.expires_at.getTime(),
            usedAt: row.used_at?.getTime() ?? null,
            sessionRevokedAt: row.revoked_at?.getTime() ?? null,
          }
        : undefined
    },
    async rotateRefreshToken(token, hash, next, now) {
      const rotation = await sql.begin(async (tx) => {
        // Spent only if nobody spent it first: a concurrent rotation of the same token waits for
        // this row, then finds it spent. Returns the token's user, as it is now.
        const spender = maybeUser(
          await tx<UserRow[]>`
            UPDATE refresh_tokens r SET used_at = ${new Date(now)}
              FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE r.token_hash = ${hash} AND r.used_at IS NULL AND s.id = r.session_id
            RETURNING u.*`,
        )
        await tx`DELETE FROM refresh_tokens WHERE session_id = ${token.sessionId} AND expires_at <= ${new Date(now)}`
        // A spent token presented again means it was copied: the family ends for everyone holding it.
        if (!spender) {
          await revokeSession(tx, token.sessionId, now)
          return { outcome: 'reused' as const }
        }
        if (token.expiresAt <= now || !spender.isActive) return { outcome: 'refused' as const }
        await addRefreshToken(tx, token.sessionId, next, now)
        return { outcome: 'rotated' as const, user: spender }
      })
      if (rotation.outcome === 'rotated')
        background.add(
          () => sql`UPDATE sessions SET last_seen_at = greatest(last_seen_at, ${new Date(now)}) WHERE id = ${token.sessionId}`,
          `sessions.last_seen_at ${token.sessionId}`,
        )
      return rotation
    },
    async revokeSession(sessionId, now) {
      await revokeSession(sql, sessionId, now)
    },

    async sessionHolder(userId, sessionId): Promise<SessionHolder | undefined> {
      const [row] = await sql<SessionHolderRow[]>`
        SELECT u.id, u.email, u.role, u.is_active, u.max_concurrent_requests, s.revoked_at
          FROM users u JOIN sessions s ON s.user_id = u.id
         WHERE u.id = ${userId} AND s.id = ${sessionId}`
      return row
        ? {
            userId: row.id, email: row.email, role: row.role, isActive: row.is_active, sessionRevokedAt: row.revoked_at?.getTime() ?? null,
            maxConcurrentRequests: row.max_concurrent_requests,
          }
        : undefined
    },
    async apiKeyHolder(keyHash): Promise<ApiKeyHolder | undefined> {
      const [row] = await sql<ApiKeyHolderRow[]>`
        SELECT u.id, u.email, u.role, u.is_active, u.max_concurrent_requests, k.id AS key_id, k.key_hash, k.expires_at, k.revoked_at, k.last_used_at, k.scopes, k.models,
              k.max_concurrent_requests AS key_max_concurrent_requests, k.rate_limits, k.tokens_per_minute
          FROM api_keys k JOIN users u ON u.id = k.user_id
         WHERE k.key_hash = ${keyHash}`
      if (!row) return undefined
      return {
        userId: row.id,
        email: row.email,
        role: row.role,
        isActive: row.is_active,
        keyId: row.key_id,
        keyHash: row.key_hash,
        expiresAt: row.expires_at?.getTime() ?? null,
        revokedAt: row.revoked_at?.getTime() ?? null,
        lastUsedAt: row.last_used_at?.getTime() ?? null,
        scopes: jsonList(row.scopes),
        models: jsonList(row.models),
        maxConcurrentRequests: row.max_concurrent_requests,
        keyMaxConcurrentRequests: row.key_max_concurrent_requests,
        ...heldKeyLimits(row.rate_limits, row.tokens_per_minute),
      }
    },
    recordApiKeyUse(keyId, now) {
      const recorded = recordedUses.get(keyId)
      if (recorded !== undefined && recorded >= now - USE_GRAIN_MS) return
      if (recordedUses.size >= REMEMBERED_USES) forgetPastUses(now)
      recordedUses.set(keyId, now)
      // The same condition in SQL: another replica may have recorded a use within the minute.
      background.add(
        () => sql`UPDATE api_keys SET last_used_at = ${new Date(now)}
                   WHERE id = ${keyId} AND (last_used_at IS NULL OR last_used_at < ${new Date(now - USE_GRAIN_MS)})`,
        `api_keys.last_used_at ${keyId}`,
      )
    },
  }
}
