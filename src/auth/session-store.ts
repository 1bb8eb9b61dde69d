// SQL for sign-in sessions and their refresh tokens (one session = one refresh-token family).
// The writes are synchronous so that a sign-in can group them in one transaction (and retry
// it whole while another process holds the lock: see sessions.ts).
import type { Database } from 'bun:sqlite'
import { deferredWrites } from '../db/deferred'

export type NewSession = { userId: string; provider: string; ip: string | null; userAgent: string | null; country: string | null }

export type RefreshTokenRow = {
  session_id: string
  user_id: string
  expires_at: number
  used_at: number | null
  revoked_at: number | null
}

export function insertSession(db: Database, session: NewSession, now: number): string {
  const id = Bun.randomUUIDv7()
  db.query(
    `INSERT INTO sessions (id, user_id, provider, ip, user_agent, country, created_at, last_seen_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(id, session.userId, session.provider, session.ip, session.userAgent, session.country, now, now)
  return id
}

export function insertRefreshToken(db: Database, hash: string, sessionId: string, now: number, expiresAt: number) {
  db.query('INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
    hash,
    sessionId,
    now,
    expiresAt,
  )
}

export async function findRefreshToken(db: Database, hash: string): Promise<RefreshTokenRow | undefined> {
  return (
    db
      .query<RefreshTokenRow, [string]>(
        `SELECT r.session_id, s.user_id, r.expires_at, r.used_at, s.revoked_at
           FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
          WHERE r.token_hash = ?`,
      )
      .get(hash) ?? undefined
  )
}

/**
 * Marks a refresh token spent and drops the family's expired tokens. False when it was
 * already spent, so that of two concurrent uses only one wins.
 */
export function spendRefreshToken(db: Database, hash: string, sessionId: string, now: number): boolean {
  const spent = db.query('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL').run(now, hash)
  db.query('DELETE FROM refresh_tokens WHERE session_id = ? AND expires_at <= ?').run(sessionId, now)
  return spent.changes === 1
}

/** Bookkeeping: when the session was last seen. Deferred while the database is busy; never fails a request. */
export function touchSession(db: Database, sessionId: string, now: number) {
  deferredWrites(db).add(
    () => db.query('UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE id = ?').run(now, sessionId),
    `sessions.last_seen_at ${sessionId}`,
  )
}

export function revokeSession(db: Database, sessionId: string, now: number): void {
  db.query('UPDATE sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?').run(now, sessionId)
}
