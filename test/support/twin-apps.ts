// Two replicas in one test process: two apps on real listeners over one database (a SQLite file)
// and one Redis prefix, so that a user seeded through one is known to both and all they share
// goes through Redis.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp } from './app'
import { listen } from './listen'
import { redisTestUrl, testPrefix } from './redis'

export type Replica = Awaited<ReturnType<typeof testApp>> & { url: string }

/** Two replicas sharing a database and a Redis prefix; `env` may point REDIS_URL at a proxy. */
export async function twinApps(env: Record<string, string> = {}) {
  const folder = mkdtempSync(join(tmpdir(), 'studio-twins-'))
  const shared = { DATABASE_URL: `sqlite://${join(folder, 'studio.db')}`, REDIS_URL: redisTestUrl, REDIS_PREFIX: testPrefix(), ...env }
  const started: { server: ReturnType<typeof listen>; replica: Replica }[] = []
  // One after the other: the first one creates the database.
  for (let i = 0; i < 2; i++) {
    const app = await testApp(shared)
    const server = listen(app.app)
    started.push({ server, replica: { ...app, url: server.url } })
  }
  return {
    a: started[0]!.replica,
    b: started[1]!.replica,
    prefix: shared.REDIS_PREFIX,
    async close() {
      for (const { server, replica } of started) {
        server.stop()
        await replica.close()
      }
      rmSync(folder, { recursive: true, force: true })
    },
  }
}
