// `migrate`: apply pending migrations (SQLite or PostgreSQL, as DATABASE_URL says) and exit.
import { loadConfig } from '../config'
import { openStore } from '../db/open'
import type { Command } from './command'

export const migrate: Command = {
  name: 'migrate',
  summary: 'apply pending database migrations and exit',
  usage: 'migrate',
  options: {},
  async run() {
    const { store, applied } = await openStore(loadConfig().database)
    await store.close()
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date')
  },
}
