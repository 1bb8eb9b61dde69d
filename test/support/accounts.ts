// What the accounts tests check or change below the store interface: the sessions a user has
// (no API lists them), a user switched off or on without the revocations an admin's deactivation
// makes (to show the per-request check alone refuses them), and refresh tokens moved past their
// expiry. The one place their SQL lives.
import type { Runtime } from '../../src/runtime'
import { raw, timeValue } from './raw'

export type StoredSession = { provider: string; ip: string | null; userAgent: string | null; country: string | null; revokedAt: number | null }

/** The user's sessions, oldest first. */
export const sessionsOf = (rt: Runtime, userId: string): Promise<StoredSession[]> =>
  raw<StoredSession>(
    rt,
    `SELECT provider, ip, user_agent AS "userAgent", country, revoked_at AS "revokedAt"
       FROM sessions WHERE user_id = ? ORDER BY created_at, id`,
    userId,
  )

/** Sets whether the account is active, and nothing else: its sessions and keys stay as they are. */
export const setActiveOnly = async (rt: Runtime, userId: string, active: boolean) =>
  void (await raw(rt, { sqlite: 'UPDATE users SET is_active = ? WHERE id = ?', postgres: 'UPDATE users SET is_active = ?::int::boolean WHERE id = ?' }, active ? 1 : 0, userId))

/** Moves every refresh token of the user's sessions to expire at `at`. */
export const expireRefreshTokens = async (rt: Runtime, userId: string, at = Date.now() - 1) =>
  void (await raw(rt, 'UPDATE refresh_tokens SET expires_at = ? WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?)', timeValue(rt, at), userId))

/** A session's running totals and when it was last seen. */
export const sessionTotals = async (rt: Runtime, sessionId: string) =>
  (
    await raw<{ requests: number; tokens: number; cost: number; lastSeenAt: number }>(
      rt,
      {
        sqlite: 'SELECT request_count AS requests, total_tokens AS tokens, total_cost AS cost, last_seen_at AS lastSeenAt FROM sessions WHERE id = ?',
        postgres: 'SELECT request_count::int AS requests, total_tokens::int AS tokens, total_cost AS cost, last_seen_at AS "lastSeenAt" FROM sessions WHERE id = ?',
      },
      sessionId,
    )
  )[0]!
