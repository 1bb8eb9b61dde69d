// What the accounts tests check or change below the store interface: the sessions a user has
// (no API lists them), a user switched off or on without the revocations an admin's deactivation
// makes (to show the per-request check alone refuses them), and refresh tokens moved past their
// expiry. The one place their SQL lives.
import type { Runtime } from '../../src/runtime'

export type StoredSession = { provider: string; ip: string | null; userAgent: string | null; country: string | null; revokedAt: number | null }

/** The user's sessions, oldest first. */
export const sessionsOf = (rt: Runtime, userId: string): StoredSession[] =>
  rt.db
    .query<StoredSession, [string]>(
      `SELECT provider, ip, user_agent AS userAgent, country, revoked_at AS revokedAt
         FROM sessions WHERE user_id = ? ORDER BY created_at, id`,
    )
    .all(userId)

/** Sets whether the account is active, and nothing else: its sessions and keys stay as they are. */
export const setActiveOnly = (rt: Runtime, userId: string, active: boolean) =>
  void rt.db.query('UPDATE users SET is_active = ? WHERE id = ?').run(active ? 1 : 0, userId)

/** Moves every refresh token of the user's sessions to expire at `at`. */
export const expireRefreshTokens = (rt: Runtime, userId: string, at = Date.now() - 1) =>
  void rt.db
    .query('UPDATE refresh_tokens SET expires_at = ? WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?)')
    .run(at, userId)
