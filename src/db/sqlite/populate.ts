// The store of populate-dashboard-data on SQLite: its statements are prepared once per store.
// Its threats are written by the threat store's functions (./threats.ts), which count them in
// rollup_threats in the same transaction.
import type { Database } from 'bun:sqlite'
import type { PopulateStore } from '../stores/populate'
import { addGeneratedThreats, deleteGeneratedThreats } from './threats'

export function sqlitePopulate(db: Database): PopulateStore {
  const insertUser = db.query<unknown, [string, string, string, number]>(
    `INSERT INTO users (id, email, name, role, provider, created_at, last_login_at, generated)
     VALUES (?1, ?2, ?3, 'user', 'email', ?4, ?4, 1)`,
  )
  const insertSession = db.query<unknown, [string, string, string, string, string, string | null, number]>(
    `INSERT INTO sessions (id, user_id, provider, ip, user_agent, country, created_at, last_seen_at, generated)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, 1)`,
  )
  const deleteSessions = db.query('DELETE FROM sessions WHERE generated = 1')
  const deleteUnusedUsers = db.query(
    `DELETE FROM users WHERE generated = 1
       AND NOT EXISTS (SELECT 1 FROM api_keys WHERE user_id = users.id)
       AND NOT EXISTS (SELECT 1 FROM identities WHERE user_id = users.id)
       AND NOT EXISTS (SELECT 1 FROM sessions WHERE user_id = users.id)
       AND NOT EXISTS (SELECT 1 FROM feedback WHERE user_id = users.id)
       AND NOT EXISTS (SELECT 1 FROM request_logs WHERE user_id = users.id)`,
  )
  const countGeneratedUsers = db.query<{ n: number }, []>('SELECT count(*) AS n FROM users WHERE generated = 1')

  return {
    async insertAccounts(users, sessions) {
      db.transaction(() => {
        for (const u of users) insertUser.run(u.id, u.email, u.name, u.createdAt)
        for (const s of sessions) insertSession.run(s.id, s.userId, s.provider, s.ip, s.userAgent, s.country, s.createdAt)
      })()
    },

    async insertThreats(threats) {
      db.transaction(() => addGeneratedThreats(db, threats))()
    },

    async deleteGeneratedAccounts() {
      return db.transaction(() => {
        const threats = deleteGeneratedThreats(db)
        const sessions = deleteSessions.run().changes
        const users = deleteUnusedUsers.run().changes
        const kept = countGeneratedUsers.get()!.n
        return { threats, sessions, users, kept }
      })()
    },
  }
}
