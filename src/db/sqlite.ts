// Opens the one embedded SQLite connection that the server shares (WAL, foreign keys on).
import { Database } from 'bun:sqlite'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { DatabaseLocation } from '../config'

export type { Database }

export function openDatabase(location: DatabaseLocation): Database {
  const memory = location.path === ':memory:'
  const path = memory ? ':memory:' : resolve(process.cwd(), location.path)
  if (!memory) mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { create: true, strict: true })
  db.exec('PRAGMA busy_timeout = 5000')
  enableWal(db)
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  return db
}

/**
 * Switching a new file to WAL needs the file to itself for a moment, and SQLite answers "busy"
 * at once instead of waiting: when two processes open a new database together, we wait.
 */
function enableWal(db: Database) {
  for (const deadline = Date.now() + 5000; ; Bun.sleepSync(10)) {
    try {
      db.exec('PRAGMA journal_mode = WAL')
      return
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error
    }
  }
}
