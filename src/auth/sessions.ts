// Sign-in sessions: starting one (a new refresh-token family), rotating its refresh token,
// detecting reuse of a spent one (which revokes the whole family), and logging out.
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
  type NewSession,
} from './session-store'
import { findUserById, recordLogin, type UserRow } from './user-store'

const DAY_MS = 86_400_000

const refused = () =>
  new HttpError(401, 'The refresh token is invalid, expired or revoked; sign in again', { code: 'invalid_refresh_token' })

async function issueTokens(rt: Runtime, sign: Signer, user: UserRow, sessionId: string, now: number): Promise<TokenPairView> {
  const refreshToken = randomToken()
  await insertRefreshToken(rt.db, sha256(refreshToken), sessionId, now, now + rt.config.refreshTokenDays * DAY_MS)
  const accessToken = await sign({ sub: user.id, role: user.role, sid: sessionId, jti: Bun.randomUUIDv7(), typ: 'access' })
  return { accessToken, refreshToken, expiresIn: rt.config.accessTokenMinutes * 60, user: userView(user) }
}

/** Starts a session for a user who has just proved who they are. */
export async function startSession(
  rt: Runtime,
  sign: Signer,
  user: UserRow,
  provider: string,
  client: Pick<NewSession, 'ip' | 'userAgent' | 'country'>,
): Promise<TokenPairView & { sessionId: string }> {
  const now = Date.now()
  const sessionId = await insertSession(rt.db, { userId: user.id, provider, ...client }, now)
  await recordLogin(rt.db, user.id, now)
  const tokens = await issueTokens(rt, sign, { ...user, last_login_at: now }, sessionId, now)
  return { ...tokens, sessionId }
}

export async function refreshSession(rt: Runtime, sign: Signer, refreshToken: string): Promise<TokenPairView> {
  const now = Date.now()
  const hash = sha256(refreshToken)
  const token = await findRefreshToken(rt.db, hash)
  if (!token || token.revoked_at !== null) throw refused()
  // A spent token presented again means it was copied: end the family for everyone holding it.
  if (token.used_at !== null || !(await spendRefreshToken(rt.db, hash, token.session_id, now))) {
    await revokeSession(rt.db, token.session_id, now)
    throw refused()
  }
  const user = await findUserById(rt.db, token.user_id)
  if (token.expires_at <= now || !user?.is_active) throw refused()
  return issueTokens(rt, sign, user, token.session_id, now)
}

/** Ends the session the refresh token belongs to; its access tokens stop working at once. */
export async function endSession(rt: Runtime, refreshToken: string): Promise<void> {
  const token = await findRefreshToken(rt.db, sha256(refreshToken))
  if (token) await revokeSession(rt.db, token.session_id, Date.now())
}
