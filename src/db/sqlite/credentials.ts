// Revoking every credential of a user, on SQLite: shared by the accounts feature (promotion,
// claiming an account) and the admin store (deactivation), each inside its own transaction.
import type { Database } from 'bun:sqlite'

/** Revokes every session and API key of the user; called inside a transaction. */
export function revokeCredentials(db: Database, userId: string, now: number) {
  db.query('UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(now, userId)
  db.query('UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(now, userId)
}
