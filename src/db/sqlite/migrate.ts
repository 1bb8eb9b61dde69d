// Applies pending SQLite migrations in order, each inside its own transaction, recording each one.
// Each transaction takes the write lock before it looks (IMMEDIATE), so processes that start
// together on a new database (the server and a CLI command, say) apply each migration once.
// One already applied is skipped before any lock is asked for: starting on an up-to-date
// database writes nothing, so it does not wait for another process's write lock.
import type { Database } from 'bun:sqlite'
import { migrations as embedded } from '../migrations'

export function migrate(db: Database, migrations = embedded.sqlite): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)')
  const isApplied = db.query<{ name: string }, [string]>('SELECT name FROM schema_migrations WHERE name = ?')
  const applied: string[] = []
  for (const migration of migrations) {
    if (isApplied.get(migration.name)) continue
    const ran = db
      .transaction(() => {
        if (isApplied.get(migration.name)) return false
        db.exec(migration.sql)
        db.query('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(migration.name, Date.now())
        return true
      })
      .immediate()
    if (ran) applied.push(migration.name)
  }
  return applied
}
