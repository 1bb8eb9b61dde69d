// SQL for accounts: users and the identity-provider accounts linked to them.
import type { Database } from 'bun:sqlite'
import { retryWhileBusy } from '../db/busy'
import { revokeCredentials } from '../db/sqlite/credentials'
import type { Role } from './principal'

export type UserRow = {
  id: string
  email: string
  password_hash: string | null
  name: string
  avatar_url: string | null
  provider: string
  role: Role
  is_active: number
  /** 1 once an identity provider (or the operator) has proven the address. */
  email_verified: number
  created_at: number
  last_login_at: number | null
}

export type NewUser = {
  email: string
  passwordHash: string | null
  name: string
  avatarUrl: string | null
  provider: string
  role: Role
  emailVerified: boolean
}

export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  return db.query<UserRow, [string]>('SELECT * FROM users WHERE id = ?').get(id) ?? undefined
}

export async function findUserByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  return db.query<UserRow, [string]>('SELECT * FROM users WHERE email = ?').get(email) ?? undefined
}

/**
 * Inserts the user unless the email is taken; returns the new row, or undefined on a taken email.
 * Sign-in writes like this one retry while another process holds the lock, then answer 503.
 */
export async function insertUser(db: Database, user: NewUser, now = Date.now()): Promise<UserRow | undefined> {
  return retryWhileBusy(
    () =>
      db
        .query<UserRow, [string, string, string | null, string, string | null, string, Role, number, number]>(
          `INSERT INTO users (id, email, password_hash, name, avatar_url, provider, role, email_verified, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING *`,
        )
        .get(Bun.randomUUIDv7(), user.email, user.passwordHash, user.name, user.avatarUrl, user.provider, user.role, user.emailVerified ? 1 : 0, now) ??
      undefined,
  )
}

/** Synchronous: part of the sign-in's transaction (sessions.ts). */
export function recordLogin(db: Database, userId: string, now: number): void {
  db.query('UPDATE users SET last_login_at = ? WHERE id = ?').run(now, userId)
}

/** Fills a name or avatar the user does not have yet from what an identity provider says. */
export async function fillProfile(db: Database, userId: string, name: string | null, avatarUrl: string | null) {
  await retryWhileBusy(() =>
    db
      .query(
        `UPDATE users SET name = CASE WHEN name = '' THEN coalesce(?, '') ELSE name END,
                          avatar_url = coalesce(avatar_url, ?)
          WHERE id = ?`,
      )
      .run(name, avatarUrl, userId),
  )
}

/**
 * Makes the user an active admin with the given password (create-superuser on an existing account)
 * and, in the same transaction, revokes every session and API key it had: whoever made them (who
 * registered the address first, perhaps) must not hold the admin role through them.
 */
export async function promoteToAdmin(db: Database, userId: string, passwordHash: string, name?: string, now = Date.now()): Promise<void> {
  db.transaction(() => {
    db.query(
      `UPDATE users SET role = 'admin', is_active = 1, email_verified = 1, password_hash = ?, name = coalesce(?, name) WHERE id = ?`,
    ).run(passwordHash, name ?? null, userId)
    revokeCredentials(db, userId, now)
  })()
}

export async function findUserByIdentity(db: Database, provider: string, subject: string): Promise<UserRow | undefined> {
  return (
    db
      .query<UserRow, [string, string]>(
        'SELECT u.* FROM identities i JOIN users u ON u.id = i.user_id WHERE i.provider = ? AND i.subject = ?',
      )
      .get(provider, subject) ?? undefined
  )
}

export async function linkIdentity(db: Database, provider: string, subject: string, userId: string, email: string | null) {
  await retryWhileBusy(() =>
    db
      .query('INSERT INTO identities (provider, subject, user_id, email, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
      .run(provider, subject, userId, email, Date.now()),
  )
}

/**
 * A provider has just proven that the address of this account, which nobody had proven, is its
 * user's. Whoever set its password may not be that person (anyone can register any address):
 * the password goes, and so does every session and API key made with it.
 */
export async function claimUnverifiedAccount(db: Database, userId: string, now = Date.now()): Promise<void> {
  await retryWhileBusy(
    db.transaction(() => {
      db.query('UPDATE users SET password_hash = NULL, email_verified = 1 WHERE id = ?').run(userId)
      revokeCredentials(db, userId, now)
    }),
  )
}
