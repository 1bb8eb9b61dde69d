// Another process holding SQLite's write lock on a database file, as a backup, the CLI or a
// second server would: `BEGIN IMMEDIATE` in a real child process, kept until released.
import type { Subprocess } from 'bun'

// The child takes the lock, says so, and holds it until its stdin closes.
const holder = `
  import { Database } from 'bun:sqlite'
  const db = new Database(process.env.LOCKED_DATABASE)
  db.exec('PRAGMA busy_timeout = 5000')
  db.exec('BEGIN IMMEDIATE')
  db.exec("INSERT INTO settings (key, value) VALUES ('lock-holder', 'was here') ON CONFLICT (key) DO NOTHING")
  console.log('locked')
  for await (const _ of Bun.stdin.stream()) {}
  db.exec('COMMIT')
  db.close()
`

export type WriteLock = { release(): Promise<void> }

export async function holdWriteLock(databasePath: string): Promise<WriteLock> {
  const child: Subprocess<'pipe', 'pipe', 'inherit'> = Bun.spawn([process.execPath, '-e', holder], {
    env: { ...process.env, LOCKED_DATABASE: databasePath },
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const reader = child.stdout.getReader()
  const { value } = await reader.read()
  if (!new TextDecoder().decode(value).includes('locked')) throw new Error('the lock holder did not take the lock')
  return {
    async release() {
      child.stdin.end()
      if ((await child.exited) !== 0) throw new Error('the lock holder failed')
    },
  }
}
