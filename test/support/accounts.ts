// What the accounts tests check or change below the store interface: the sessions a user has
// (no API lists them), a user switched off or on without the revocations an admin's deactivation
// makes (to show the per-request check alone refuses them), refresh tokens moved past their
// expiry, and the plans of the lookups made at sign-in and on every request. The one place their SQL lives.
import { principalCacheOf } from '../../src/auth/principal-cache'
import type { Runtime } from '../../src/runtime'
import { raw, timeValue } from './raw'
import { queryPlan } from './tables'

export type StoredSession = { provider: string; ip: string | null; userAgent: string | null; country: string | null; revokedAt: number | null }

/** The user's sessions, oldest first. */
export const sessionsOf = (rt: Runtime, userId: string): Promise<StoredSession[]> =>
  raw<StoredSession>(
    rt,
    `SELECT provider, ip, user_agent AS "userAgent", country, revoked_at AS "revokedAt"
       FROM sessions WHERE user_id = ? ORDER BY created_at, id`,
    userId,
  )

/**
 * Sets whether the account is active, and nothing else: its sessions and keys stay as they are.
 * Made behind the services' back, so the runtime's principal cache is told, as they tell it.
 */
export async function setActiveOnly(rt: Runtime, userId: string, active: boolean) {
  await raw(rt, { sqlite: 'UPDATE users SET is_active = ? WHERE id = ?', postgres: 'UPDATE users SET is_active = ?::int::boolean WHERE id = ?' }, active ? 1 : 0, userId)
  principalCacheOf(rt).forgetAll()
}

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

/**
 * The plans of the lookups made at sign-in and on every request (by email, identity, refresh
 * token, session, API key hash; a user's live keys), by name, to show an index is behind each.
 */
export async function lookupPlans(rt: Runtime): Promise<Record<string, string>> {
  const lookups = {
    userByEmail: "SELECT * FROM users WHERE email = 'a@example.com'",
    userByIdentity: "SELECT u.* FROM identities i JOIN users u ON u.id = i.user_id WHERE i.provider = 'github' AND i.subject = '42'",
    refreshToken: "SELECT r.session_id, s.user_id FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = 'h'",
    sessionHolder: "SELECT u.id, s.revoked_at FROM users u JOIN sessions s ON s.user_id = u.id WHERE u.id = 'u' AND s.id = 's'",
    apiKeyHolder: "SELECT u.id, k.id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = 'h'",
    liveKeys: "SELECT count(*) FROM api_keys WHERE user_id = 'u' AND revoked_at IS NULL",
  }
  const plans: Record<string, string> = {}
  for (const [name, query] of Object.entries(lookups)) plans[name] = await queryPlan(rt, query)
  return plans
}
