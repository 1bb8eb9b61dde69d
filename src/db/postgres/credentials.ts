// Revoking every credential of a user, on PostgreSQL: shared by the accounts feature (promotion,
// claiming an account) and the admin store (deactivation), each inside its own transaction.
import type { SQL } from 'bun'

/** Revokes every session and API key of the user; called with the transaction it belongs to. */
export async function revokeCredentials(tx: SQL, userId: string, now: number) {
  // Session rows are locked in id order, as the request log's writer locks them to add its
  // totals (./telemetry.ts): two transactions taking them in different orders could deadlock.
  await tx`SELECT 1 FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL ORDER BY id FOR NO KEY UPDATE`
  await tx`UPDATE sessions SET revoked_at = ${new Date(now)} WHERE user_id = ${userId} AND revoked_at IS NULL`
  await tx`UPDATE api_keys SET revoked_at = ${new Date(now)} WHERE user_id = ${userId} AND revoked_at IS NULL`
}
