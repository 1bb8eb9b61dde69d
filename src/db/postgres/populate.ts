// The store of populate-dashboard-data on PostgreSQL: accounts written in bulk (./bulk.ts);
// threats written, and counted in rollup_threats in the same transaction, by the threat store's
// own functions (./threats.ts).
import type { SQL } from 'bun'
import type { MockSession, MockUser, PopulateStore } from '../stores/populate'
import { bulkInsert } from './bulk'
import { addGeneratedThreats, deleteGeneratedThreats } from './threats'

const insertUsers = bulkInsert<MockUser>('users', {
  id: ['text', (u) => u.id],
  email: ['text', (u) => u.email],
  name: ['text', (u) => u.name],
  role: ['text', () => 'user'],
  provider: ['text', () => 'email'],
  created_at: ['timestamptz', (u) => new Date(u.createdAt)],
  last_login_at: ['timestamptz', (u) => new Date(u.createdAt)],
  generated: ['boolean', () => true],
})

const insertSessions = bulkInsert<MockSession>('sessions', {
  id: ['text', (s) => s.id],
  user_id: ['text', (s) => s.userId],
  provider: ['text', (s) => s.provider],
  ip: ['text', (s) => s.ip],
  user_agent: ['text', (s) => s.userAgent],
  country: ['text', (s) => s.country],
  created_at: ['timestamptz', (s) => new Date(s.createdAt)],
  last_seen_at: ['timestamptz', (s) => new Date(s.createdAt)],
  generated: ['boolean', () => true],
})

export function postgresPopulate(sql: SQL): PopulateStore {
  return {
    async insertAccounts(users, sessions) {
      await sql.begin(async (tx) => {
        await insertUsers(tx, users)
        await insertSessions(tx, sessions)
      })
    },

    async insertThreats(threats) {
      if (threats.length === 0) return
      await sql.begin((tx) => addGeneratedThreats(tx, threats))
    },

    async deleteGeneratedAccounts() {
      return sql.begin(async (tx) => {
        const threats = await deleteGeneratedThreats(tx)
        const sessions = (await tx`DELETE FROM sessions WHERE generated`).count
        const users = (await tx`
          DELETE FROM users WHERE generated
             AND NOT EXISTS (SELECT 1 FROM api_keys WHERE user_id = users.id)
             AND NOT EXISTS (SELECT 1 FROM identities WHERE user_id = users.id)
             AND NOT EXISTS (SELECT 1 FROM sessions WHERE user_id = users.id)
             AND NOT EXISTS (SELECT 1 FROM feedback WHERE user_id = users.id)
             AND NOT EXISTS (SELECT 1 FROM request_logs WHERE user_id = users.id)`).count
        const [{ kept }] = (await tx`SELECT count(*)::int AS kept FROM users WHERE generated`) as [{ kept: number }]
        return { threats, sessions, users, kept }
      })
    },
  }
}
