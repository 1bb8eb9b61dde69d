// Applies pending PostgreSQL migrations in order, each inside its own transaction, recording
// each one. Replicas that start together on one database take turns on an advisory lock: the
// first applies what is pending, the others wait, then find nothing left to do and serve.
// Starting on an up-to-date database takes no lock.
import type { SQL } from 'bun'
import { migrations as embedded } from '../migrations'

/** The advisory lock's key: any number, the same in every replica ("ai-studio migrate"). */
const MIGRATION_LOCK = 0x41_49_53_4d

/** `schema`: the URL's `?schema=`, made here when it does not exist yet. */
export async function migrate(sql: SQL, schema?: string, migrations = embedded.postgres): Promise<string[]> {
  if (await upToDate(sql, migrations)) return []
  const connection = await sql.reserve()
  try {
    await connection`SELECT pg_advisory_lock(${MIGRATION_LOCK})`
    try {
      // The name was checked by loadConfig (letters, digits and _), so it can stand in the text.
      if (schema) await connection.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await connection.unsafe('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL)')
      const done = new Set((await connection`SELECT name FROM schema_migrations`).map((row: { name: string }) => row.name))
      const applied: string[] = []
      for (const migration of migrations) {
        if (done.has(migration.name)) continue
        await connection.begin(async (tx) => {
          await tx.unsafe(migration.sql)
          await tx`INSERT INTO schema_migrations (name, applied_at) VALUES (${migration.name}, now())`
        })
        applied.push(migration.name)
      }
      return applied
    } finally {
      await connection`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`
    }
  } finally {
    connection.release()
  }
}

async function upToDate(sql: SQL, migrations: { name: string }[]) {
  const [table] = await sql`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`
  if (!table.present) return false
  const done = new Set((await sql`SELECT name FROM schema_migrations`).map((row: { name: string }) => row.name))
  return migrations.every((migration) => done.has(migration.name))
}
