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
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  db.exec('PRAGMA foreign_keys = ON')
  db.exec('PRAGMA busy_timeout = 5000')
  return db
}
