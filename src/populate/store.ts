// SQL for the accounts and threats that populate-dashboard-data makes up, and for removing
// everything it made (rows with generated = 1) while leaving real data alone.
import type { Database } from 'bun:sqlite'
import type { Severity, ThreatType } from '../threats/store'
import { sqliteFeedback } from '../db/sqlite/feedback'
import { deleteGeneratedLogs } from '../telemetry/store'

export type MockUser = { id: string; email: string; name: string; createdAt: number }
export type MockSession = {
  id: string
  userId: string
  provider: string
  ip: string
  userAgent: string
  country: string | null
  createdAt: number
}
export type MockThreat = {
  type: ThreatType
  severity: Severity
  userId: string | null
  address: string
  detail: string
  createdAt: number
  resolvedAt: number | null
}

export async function insertMockAccounts(db: Database, users: MockUser[], sessions: MockSession[]): Promise<void> {
  db.transaction(() => {
    const user = db.query(
      `INSERT INTO users (id, email, name, role, provider, created_at, last_login_at, generated)
       VALUES (?1, ?2, ?3, 'user', 'email', ?4, ?4, 1)`,
    )
    for (const u of users) user.run(u.id, u.email, u.name, u.createdAt)
    const session = db.query(
      `INSERT INTO sessions (id, user_id, provider, ip, user_agent, country, created_at, last_seen_at, generated)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, 1)`,
    )
    for (const s of sessions) session.run(s.id, s.userId, s.provider, s.ip, s.userAgent, s.country, s.createdAt)
  })()
}

export async function insertMockThreats(db: Database, threats: MockThreat[]): Promise<void> {
  db.transaction(() => {
    const insert = db.query(
      `INSERT INTO threats (type, severity, user_id, address, detail, created_at, resolved, resolved_at, generated)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)`,
    )
    for (const t of threats)
      insert.run(t.type, t.severity, t.userId, t.address, t.detail, t.createdAt, t.resolvedAt === null ? 0 : 1, t.resolvedAt)
  })()
}

/**
 * Removes every generated row, taking the generated requests and ratings out of the rollups.
 * A generated user who has since been used for real (an API key, a sign-in, a rating, a request)
 * is kept: deleting them would take that real data with them.
 */
export async function deleteGenerated(db: Database) {
  const requests = await deleteGeneratedLogs(db)
  const feedback = await sqliteFeedback(db).deleteGenerated()
  return db.transaction(() => {
    const threats = db.query('DELETE FROM threats WHERE generated = 1').run().changes
    const sessions = db.query('DELETE FROM sessions WHERE generated = 1').run().changes
    const users = db
      .query(
        `DELETE FROM users WHERE generated = 1
           AND NOT EXISTS (SELECT 1 FROM api_keys WHERE user_id = users.id)
           AND NOT EXISTS (SELECT 1 FROM identities WHERE user_id = users.id)
           AND NOT EXISTS (SELECT 1 FROM sessions WHERE user_id = users.id)
           AND NOT EXISTS (SELECT 1 FROM feedback WHERE user_id = users.id)
           AND NOT EXISTS (SELECT 1 FROM request_logs WHERE user_id = users.id)`,
      )
      .run().changes
    const kept = db.query<{ n: number }, []>('SELECT count(*) AS n FROM users WHERE generated = 1').get()!.n
    return { requests, feedback, threats, sessions, users, kept }
  })()
}
