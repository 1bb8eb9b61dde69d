// Sign-in sessions: starting one (a new refresh-token family), rotating its refresh token,
// detecting reuse of a spent one (which revokes the whole family), and logging out. The store
// makes each one transaction (retried while another process holds the lock, then a 503).
import type { NewSession, User } from './store'
import { DAY } from '../http/dates'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { randomToken, sha256 } from './crypto'
import type { Signer } from './jwt'
import { userView, type TokenPairView } from './model'
import { principalsChanged } from './principal-cache'

const refused = () =>
  new HttpError(401, 'The refresh token is invalid, expired or revoked; sign in again', { code: 'invalid_refresh_token' })

/** A new refresh token: the token for the client, and what the store keeps of it. */
function newRefreshToken(rt: Runtime, now: number) {
  const token = randomToken()
  return { token, stored: { hash: sha256(token), expiresAt: now + rt.config.refreshTokenDays * DAY } }
}

async function issueTokens(rt: Runtime, sign: Signer, user: User, sessionId: string, refreshToken: string): Promise<TokenPairView> {
  const accessToken = await sign({ sub: user.id, role: user.role, sid: sessionId, jti: Bun.randomUUIDv7(), typ: 'access' })
  return { accessToken, refreshToken, expiresIn: rt.config.accessTokenMinutes * 60, user: userView(user) }
}

/**
 * Starts a session for a user who has just proved who they are: the session, the login time and
 * the first refresh token go in together, or not at all (DatabaseBusyError, a 503).
 */
export async function startSession(
  rt: Runtime,
  sign: Signer,
  user: User,
  provider: string,
  client: Pick<NewSession, 'ip' | 'userAgent' | 'country'>,
): Promise<TokenPairView & { sessionId: string }> {
  const now = Date.now()
  const refreshToken = newRefreshToken(rt, now)
  const sessionId = await rt.store.accounts.startSession({ userId: user.id, provider, ...client }, refreshToken.stored, now)
  const tokens = await issueTokens(rt, sign, { ...user, lastLoginAt: now }, sessionId, refreshToken.token)
  return { ...tokens, sessionId }
}

/**
 * Rotates a refresh token: the old one is spent and its successor stored in one transaction,
 * so that a database busy half-way never leaves a client with a spent token and no new one.
 */
export async function refreshSession(rt: Runtime, sign: Signer, refreshToken: string): Promise<TokenPairView> {
  const now = Date.now()
  const hash = sha256(refreshToken)
  const token = await rt.store.accounts.findRefreshToken(hash)
  if (!token || token.sessionRevokedAt !== null) throw refused()
  const next = newRefreshToken(rt, now)
  const rotation = await rt.store.accounts.rotateRefreshToken(token, hash, next.stored, now)
  // A spent token presented again revoked its session.
  if (rotation.outcome === 'reused') await principalsChanged(rt, token.userId)
  if (rotation.outcome !== 'rotated') throw refused()
  return issueTokens(rt, sign, rotation.user, token.sessionId, next.token)
}

/** Ends the session the refresh token belongs to; its access tokens stop working at once. */
export async function endSession(rt: Runtime, refreshToken: string): Promise<void> {
  const token = await rt.store.accounts.findRefreshToken(sha256(refreshToken))
  if (!token) return
  await rt.store.accounts.revokeSession(token.sessionId, Date.now())
  await principalsChanged(rt, token.userId)
}
