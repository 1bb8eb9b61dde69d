// Opens the one embedded SQLite connection that the server shares (WAL, foreign keys on), as
// a BusyAwareDatabase: a lock held by another process surfaces as a 503, not a 500. A location
// that cannot be used is a configuration error naming DATABASE_URL.
import type { Database } from 'bun:sqlite'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ConfigError, type DatabaseLocation } from '../../config'
import { COMMAND_BUSY_TIMEOUT_MS, isBusy } from '../busy'
import { BusyAwareDatabase } from './busy-aware-database'

export type { Database }

export type OpenOptions = {
  /**
   * How long a statement waits, blocking its thread, for a lock held by another process before
   * it fails as busy. Long by default, for start-up and command-line tools; the serving
   * runtime shortens it (SERVER_BUSY_TIMEOUT_MS) once it is ready.
   */
  busyTimeoutMs?: number
}

export type SqliteLocation = Extract<DatabaseLocation, { kind: 'sqlite' }>

export function openDatabase(location: SqliteLocation, options: OpenOptions = {}): Database {
  const memory = location.path === ':memory:'
  const path = memory ? ':memory:' : resolve(process.cwd(), location.path)
  if (!memory) {
    try {
      mkdirSync(dirname(path), { recursive: true })
    } catch (error) {
      throw new ConfigError('DATABASE_URL', `a sqlite://<path> whose folder can be created (${(error as Error).message})`, `sqlite://${location.path}`)
    }
  }
  let db: Database
  try {
    db = new BusyAwareDatabase(path, { create: true, strict: true })
  } catch (error) {
    throw unusable(location, error)
  }
  setBusyTimeout(db, options.busyTimeoutMs ?? COMMAND_BUSY_TIMEOUT_MS)
  try {
    // The first statement reads the file: one that is not a database is found here.
    db.exec('PRAGMA schema_version')
  } catch (error) {
    if (isBusy(error)) throw error
    db.close()
    throw unusable(location, error)
  }
  enableWal(db)
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  return db
}

const unusable = (location: SqliteLocation, error: unknown) =>
  new ConfigError('DATABASE_URL', `an SQLite database this process can open and write (${(error as Error).message})`, `sqlite://${location.path}`)

export function setBusyTimeout(db: Database, ms: number) {
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(ms))}`)
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
      if (!isBusy(error) || Date.now() > deadline) throw error
    }
  }
}

