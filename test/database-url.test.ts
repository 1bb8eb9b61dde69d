// A DATABASE_URL that cannot be used stops start-up with one line naming the variable, like
// every other configuration mistake, instead of a bare file-system or SQLite error.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ConfigError, loadConfig } from '../src/config'
import { startRuntime } from '../src/runtime'
import { run } from './support/process'

const dir = mkdtempSync(join(tmpdir(), 'studio-url-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// A regular file where the database's folder should be: no folder can be created under it.
const blocker = join(dir, 'not-a-folder')
writeFileSync(blocker, 'a regular file\n')
const underAFile = `sqlite://${join(blocker, 'data', 'studio.db')}`
const notADatabase = join(dir, 'notes.txt')
writeFileSync(notADatabase, 'These are notes, not an SQLite database. '.repeat(200))

describe('DATABASE_URL', () => {
  test('a folder that cannot be created is a configuration error naming DATABASE_URL', async () => {
    const failure = await startRuntime(loadConfig({ DATABASE_URL: underAFile })).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ConfigError)
    expect((failure as Error).message).toStartWith('DATABASE_URL: expected ')
    expect((failure as Error).message).toContain(underAFile)
  })

  test('a file that is not a database is a configuration error naming DATABASE_URL', async () => {
    const failure = await startRuntime(loadConfig({ DATABASE_URL: `sqlite://${notADatabase}` })).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ConfigError)
    expect((failure as Error).message).toStartWith('DATABASE_URL: expected an SQLite database')
  })

  test('the command line prints it as one line and exits 1', async () => {
    const { code, stdout, stderr } = await run([process.execPath, resolve(import.meta.dir, '../src/index.ts'), 'migrate'], {
      cwd: dir,
      env: { DATABASE_URL: underAFile },
    })
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^configuration error: DATABASE_URL: expected .*not a directory/i)])
  })
})
