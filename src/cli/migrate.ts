// `migrate`: apply pending migrations and exit.
import { loadConfig } from '../config'
import { migrate as applyMigrations } from '../db/migrate'
import { openDatabase } from '../db/sqlite/database'
import type { Command } from './command'

export const migrate: Command = {
  name: 'migrate',
  summary: 'apply pending database migrations and exit',
  usage: 'migrate',
  options: {},
  async run() {
    const db = openDatabase(loadConfig().database)
    const applied = applyMigrations(db)
    db.close()
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date')
  },
}
