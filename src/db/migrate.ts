// Applies pending migrations in order, each inside its own transaction, recording each one.
import type { Database } from 'bun:sqlite'
import { migrations as embedded } from './migrations'

export function migrate(db: Database, migrations = embedded): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)')
  const applied = new Set(
    db.query<{ name: string }, []>('SELECT name FROM schema_migrations').all().map((row) => row.name),
  )
  const pending = migrations.filter((migration) => !applied.has(migration.name))
  for (const migration of pending) {
    db.transaction(() => {
      db.exec(migration.sql)
      db.query('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run(migration.name, Date.now())
    })()
  }
  return pending.map((migration) => migration.name)
}
