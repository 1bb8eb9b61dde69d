// The store of populate-dashboard-data on PostgreSQL: accounts and threats written in bulk
// (./bulk.ts), the threats counted in rollup_threats in the same transaction (./threat-rollup.ts).
import type { SQL } from 'bun'
import type { MockSession, MockThreat, MockUser, PopulateStore } from '../stores/populate'
import { bulkInsert } from './bulk'
import { addToThreatRollup } from './threat-rollup'
import { maybeTimestamp, msOf, timestamp } from './time'

const insertUsers = bulkInsert<MockUser>('users', {
  id: ['text', (u) => u.id],
  email: ['text', (u) => u.email],
  name: ['text', (u) => u.name],
  role: ['text', () => 'user'],
  provider: ['text', () => 'email'],
  created_at: ['timestamptz', (u) => timestamp(u.createdAt)],
  last_login_at: ['timestamptz', (u) => timestamp(u.createdAt)],
  generated: ['boolean', () => true],
})

const insertSessions = bulkInsert<MockSession>('sessions', {
  id: ['text', (s) => s.id],
  user_id: ['text', (s) => s.userId],
  provider: ['text', (s) => s.provider],
  ip: ['text', (s) => s.ip],
  user_agent: ['text', (s) => s.userAgent],
  country: ['text', (s) => s.country],
  created_at: ['timestamptz', (s) => timestamp(s.createdAt)],
  last_seen_at: ['timestamptz', (s) => timestamp(s.createdAt)],
  generated: ['boolean', () => true],
})

const insertThreatRows = bulkInsert<MockThreat>('threats', {
  type: ['text', (t) => t.type],
  severity: ['text', (t) => t.severity],
  user_id: ['text', (t) => t.userId],
  address: ['text', (t) => t.address],
  detail: ['text', (t) => t.detail],
  created_at: ['timestamptz', (t) => timestamp(t.createdAt)],
  resolved: ['boolean', (t) => t.resolvedAt !== null],
  resolved_at: ['timestamptz', (t) => maybeTimestamp(t.resolvedAt)],
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
      await sql.begin(async (tx) => {
        await insertThreatRows(tx, threats)
        await addToThreatRollup(tx, threats.map((t) => ({ ...t, resolved: t.resolvedAt !== null })), 1)
      })
    },

    async deleteGeneratedAccounts() {
      return sql.begin(async (tx) => {
        // The threats this transaction deletes are the ones it takes out of the rollup.
        const deleted = (await tx`DELETE FROM threats WHERE generated RETURNING type, severity, resolved, created_at`) as
          { type: string; severity: string; resolved: boolean; created_at: Date }[]
        await addToThreatRollup(tx, deleted.map((t) => ({ ...t, createdAt: msOf(t.created_at) })), -1)
        await tx`DELETE FROM rollup_threats WHERE threats <= 0`
        const sessions = (await tx`DELETE FROM sessions WHERE generated`).count
        const users = (await tx`
          DELETE FROM users WHERE generated
             AND NOT EXISTS (SELECT 1 FROM api_keys WHERE user_id = users.id)
             AND NOT EXISTS (SELECT 1 FROM identities WHERE user_id = users.id)
             AND NOT EXISTS (SELECT 1 FROM sessions WHERE user_id = users.id)
             AND NOT EXISTS (SELECT 1 FROM feedback WHERE user_id = users.id)
             AND NOT EXISTS (SELECT 1 FROM request_logs WHERE user_id = users.id)`).count
        const [{ kept }] = (await tx`SELECT count(*)::int AS kept FROM users WHERE generated`) as [{ kept: number }]
        return { threats: deleted.length, sessions, users, kept }
      })
    },
  }
}
