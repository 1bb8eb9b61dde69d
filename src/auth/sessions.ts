// Sign-in sessions: starting one (a new refresh-token family), rotating its refresh token,
// detecting reuse of a spent one (which revokes the whole family), and logging out. Each is
// one transaction, retried for up to SIGN_IN_RETRY_MS while another process holds the lock.
import { retryWhileBusy } from '../db/busy'
import { DAY } from '../http/dates'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { randomToken, sha256 } from './crypto'
import type { Signer } from './jwt'
import { userView, type TokenPairView } from './model'
import {
  findRefreshToken,
  insertRefreshToken,
  insertSession,
  revokeSession,
  spendRefreshToken,
  touchSession,
  type NewSession,
} from './session-store'
import { findUserById, recordLogin, type UserRow } from './user-store'

const refused = () =>
  new HttpError(401, 'The refresh token is invalid, expired or revoked; sign in again', { code: 'invalid_refresh_token' })

/** A new refresh token for the session (inside the caller's transaction); returns the token. */
function addRefreshToken(rt: Runtime, sessionId: string, now: number): string {
  const refreshToken = randomToken()
  insertRefreshToken(rt.db, sha256(refreshToken), sessionId, now, now + rt.config.refreshTokenDays * DAY)
  return refreshToken
}

async function issueTokens(rt: Runtime, sign: Signer, user: UserRow, sessionId: string, refreshToken: string): Promise<TokenPairView> {
  const accessToken = await sign({ sub: user.id, role: user.role, sid: sessionId, jti: Bun.randomUUIDv7(), typ: 'access' })
  return { accessToken, refreshToken, expiresIn: rt.config.accessTokenMinutes * 60, user: userView(user) }
}

/**
 * Starts a session for a user who has just proved who they are. Its rows go in together, in
 * one transaction retried while another process holds the lock: then a 503 (DatabaseBusyError).
 */
export async function startSession(
  rt: Runtime,
  sign: Signer,
  user: UserRow,
  provider: string,
  client: Pick<NewSession, 'ip' | 'userAgent' | 'country'>,
): Promise<TokenPairView & { sessionId: string }> {
  const now = Date.now()
  const { sessionId, refreshToken } = await retryWhileBusy(
    rt.db.transaction(() => {
      const sessionId = insertSession(rt.db, { userId: user.id, provider, ...client }, now)
      recordLogin(rt.db, user.id, now)
      return { sessionId, refreshToken: addRefreshToken(rt, sessionId, now) }
    }),
  )
  const tokens = await issueTokens(rt, sign, { ...user, last_login_at: now }, sessionId, refreshToken)
  return { ...tokens, sessionId }
}

/**
 * Rotates a refresh token: the old one is spent and its successor stored in one transaction,
 * so that a database busy half-way never leaves a client with a spent token and no new one.
 */
export async function refreshSession(rt: Runtime, sign: Signer, refreshToken: string): Promise<TokenPairView> {
  const now = Date.now()
  const hash = sha256(refreshToken)
  const token = await findRefreshToken(rt.db, hash)
  if (!token || token.revoked_at !== null) throw refused()
  const user = await findUserById(rt.db, token.user_id)
  const next = await retryWhileBusy(
    rt.db.transaction(() => {
      // A spent token presented again means it was copied: end the family for everyone holding it.
      if (token.used_at !== null || !spendRefreshToken(rt.db, hash, token.session_id, now)) {
        revokeSession(rt.db, token.session_id, now)
        return undefined
      }
      if (token.expires_at <= now || !user?.is_active) return undefined
      return addRefreshToken(rt, token.session_id, now)
    }),
  )
  if (!next || !user) throw refused()
  touchSession(rt.db, token.session_id, now)
  return issueTokens(rt, sign, user, token.session_id, next)
}

/** Ends the session the refresh token belongs to; its access tokens stop working at once. */
export async function endSession(rt: Runtime, refreshToken: string): Promise<void> {
  const token = await findRefreshToken(rt.db, sha256(refreshToken))
  if (token) await retryWhileBusy(() => revokeSession(rt.db, token.session_id, Date.now()))
}
