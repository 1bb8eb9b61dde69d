// SIGTERM under load: every request the server answered is in the request log afterwards.
// The batch window is set far beyond the test, so only the shutdown flush can write the rows.
import { Database } from 'bun:sqlite'
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from './support/process'

const folder = mkdtempSync(join(tmpdir(), 'studio-shutdown-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

test(
  'no answered request is lost on SIGTERM under load',
  async () => {
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const database = join(folder, 'studio.db')
    const server = Bun.spawn([process.execPath, join(import.meta.dir, '..', 'src', 'index.ts'), 'serve'], {
      cwd: folder,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: `sqlite://${database}`,
        LOG_FLUSH_MS: '60000',
        LOG_BATCH_SIZE: '100000',
        // Every answered request must be a raw row: anonymous ones past the limit would be rolled up only.
        RATE_LIMIT_ANONYMOUS: '0',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    await waitFor(`${base}/api/auth/health/`)
    let answered = 1 // the readiness probe above
    let refused = 0

    const paths = ['/api/auth/health/', '/api/nothing-here/', '/v1/nothing-here', '/api/dashboard/health/']
    const client = async (id: number) => {
      for (let i = 0; refused === 0 && i < 5000; i++) {
        try {
          const res = await fetch(`${base}${paths[(id + i) % paths.length]}`)
          await res.arrayBuffer()
          answered++
        } catch {
          refused++
        }
      }
    }
    const load = Promise.all(Array.from({ length: 24 }, (_, id) => client(id)))
    await Bun.sleep(700)
    expect(answered).toBeGreaterThan(50)
    server.kill('SIGTERM')
    await load
    expect(await server.exited).toBe(0)
    const output = await new Response(server.stdout).text()
    expect(output).toContain('stopped cleanly')

    const db = new Database(database, { readonly: true })
    const rows = db.query<{ n: number }, []>('SELECT count(*) AS n FROM request_logs').get()!.n
    const rolledUp = db
      .query<{ n: number }, []>("SELECT sum(requests) AS n FROM rollup_traffic WHERE grain = 3600000 AND user_id = ''")
      .get()!.n
    db.close()
    expect(refused).toBeGreaterThan(0)
    expect(rows).toBe(answered)
    expect(rolledUp).toBe(answered)
  },
  30_000,
)
