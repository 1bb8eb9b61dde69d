// Opens the store DATABASE_URL names, SQLite or PostgreSQL, and brings its schema up to date.
// The handle under each store is kept here (not on the Store) for what must speak the database's
// own language: `copy-data`, and the tests' table helpers.
import type { SQL } from 'bun'
import type { DatabaseLocation } from '../config'
import { openPostgres } from './postgres/database'
import { postgresStore } from './postgres'
import { migrate as migratePostgres } from './postgres/migrate'
import { sqliteStore } from './sqlite'
import { openDatabase, type Database, type OpenOptions } from './sqlite/database'
import { migrate as migrateSqlite } from './sqlite/migrate'
import type { Store } from './store'

export type Handle = { dialect: 'sqlite'; db: Database } | { dialect: 'postgres'; sql: SQL }

const handles = new WeakMap<Store, Handle>()

/** The database under a store opened here. */
export const handleOf = (store: Store): Handle => handles.get(store)!

export type Opened = { store: Store; applied: string[] }

/** Opens the database, applies pending migrations (returned by name) and wraps it in its store. */
export async function openStore(location: DatabaseLocation, options: OpenOptions = {}): Promise<Opened> {
  if (location.kind === 'postgres') {
    const sql = await openPostgres(location)
    try {
      const applied = await migratePostgres(sql, location.schema)
      const store = postgresStore(sql)
      handles.set(store, { dialect: 'postgres', sql })
      return { store, applied }
    } catch (error) {
      await sql.close()
      throw error
    }
  }
  const db = openDatabase(location, options)
  try {
    const applied = migrateSqlite(db)
    const store = sqliteStore(db)
    handles.set(store, { dialect: 'sqlite', db })
    return { store, applied }
  } catch (error) {
    db.close()
    throw error
  }
}
