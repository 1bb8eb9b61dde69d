import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { migrate } from '../src/db/sqlite/migrate'
import { migrations } from '../src/db/migrations'
import { openDatabase } from '../src/db/sqlite/database'
import { startRuntime } from '../src/runtime'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'studio-store-'))
  dirs.push(dir)
  return dir
}
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })))

describe('store', () => {
  test('a file database is created with its folder, in WAL mode, with every table', () => {
    const path = join(tempDir(), 'nested', 'studio.db')
    const db = openDatabase({ kind: 'sqlite', path })
    expect(migrate(db)).toEqual(migrations.sqlite.map((migration) => migration.name))
    expect(db.query<{ journal_mode: string }, []>('PRAGMA journal_mode').get()!.journal_mode).toBe('wal')
    const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name)
    for (const table of ['users', 'identities', 'sessions', 'refresh_tokens', 'api_keys', 'request_logs', 'feedback', 'threats', 'model_usage_daily', 'schema_migrations'])
      expect(tables).toContain(table)
    db.close()
  })

  test('migrations are idempotent and a failing one leaves nothing behind', () => {
    const db = openDatabase({ kind: 'sqlite', path: ':memory:' })
    migrate(db)
    expect(migrate(db)).toEqual([])
    const broken = [{ name: '9999_broken', sql: 'CREATE TABLE half (id INTEGER); SELECT * FROM no_such_table;' }]
    expect(() => migrate(db, broken)).toThrow()
    expect(db.query("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeNull()
    expect(db.query("SELECT name FROM schema_migrations WHERE name = '9999_broken'").get()).toBeNull()
    db.close()
  })

  test('without SECRET_KEY a key is generated once and survives a restart', async () => {
    const url = `sqlite://${join(tempDir(), 'studio.db')}`
    const first = await startRuntime(loadConfig({ DATABASE_URL: url }))
    const key = first.secretKey
    await first.close()
    const second = await startRuntime(loadConfig({ DATABASE_URL: url }))
    expect(key.length).toBeGreaterThanOrEqual(32)
    expect(second.secretKey).toBe(key)
    await second.close()
  })
})
