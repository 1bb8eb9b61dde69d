// Rehearses deploy/nginx.conf on this machine, without Docker: nginx (which must be installed)
// with that configuration in front of two real replicas (`bun src/index.ts serve` on a PostgreSQL
// schema and a Redis prefix of their own, test/support/replicas.ts), chat load through nginx, and
// a rolling restart meanwhile: each replica in turn gets SIGTERM, exits, and starts again on its
// port. Every request must be answered 200, and be one row of the request log.
//
//   bun deploy/rolling-restart.ts            (PostgreSQL and Redis as for `bun test`)
//
// Only what Docker would supply differs: the replicas' addresses (127.0.0.1 and their ports
// instead of gateway-1:8000, without `resolve`, which needs nginx 1.27.3 or later) and nginx's
// own paths. The rest of the configuration is used as written.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logRows } from '../test/support/log'
import { freePort, waitFor } from '../test/support/process'
import { deleteTestKeys } from '../test/support/redis'
import { replicasReachable, startReplicas } from '../test/support/replicas'
import { seedUser } from '../test/support/users'

const CLIENTS = 16

if (!(await replicasReachable('the rolling-restart rehearsal'))) process.exit(1)
const nginx = Bun.which('nginx') ?? Bun.which('nginx', { PATH: '/usr/sbin:/usr/local/sbin' })
if (!nginx) {
  console.error('nginx is not installed (Debian: apt-get install nginx)')
  process.exit(1)
}

const group = await startReplicas(2, { RATE_LIMIT_CHAT: '0', MAX_CONCURRENT_REQUESTS: '0' }, { chunks: 20, chunkDelayMs: 10 })
const folder = mkdtempSync(join(tmpdir(), 'studio-nginx-'))
let proxy: Bun.Subprocess | undefined
try {
  const written = await Bun.file(join(import.meta.dir, 'nginx.conf')).text()
  const local = written
    .replace(/^\s*resolver .*$/m, '')
    .replace(/server gateway-(\d):8000 resolve/g, (_, n: string) => `server 127.0.0.1:${group.replicas[Number(n) - 1]!.port}`)
    .replace(/listen 80;/, `listen 127.0.0.1:${await freePort()};`)
    .replace(/^events \{/m, `pid ${folder}/nginx.pid;\nerror_log ${folder}/error.log;\nevents {`)
    .replace(/^http \{/m, `http {\n  access_log off;\n  client_body_temp_path ${folder}/body;\n  proxy_temp_path ${folder}/proxy;`)
  const port = Number(/listen 127\.0\.0\.1:(\d+);/.exec(local)![1])
  writeFileSync(join(folder, 'nginx.conf'), local)
  const check = Bun.spawnSync([nginx, '-t', '-p', folder, '-c', join(folder, 'nginx.conf')])
  console.log(`nginx -t: ${check.stderr.toString().trim().split('\n').join(' / ')}`)
  if (check.exitCode !== 0) throw new Error('nginx refused the configuration')
  proxy = Bun.spawn([nginx, '-p', folder, '-c', join(folder, 'nginx.conf'), '-g', 'daemon off;'], { stderr: 'inherit' })
  const base = `http://127.0.0.1:${port}`
  await waitFor(`${base}/api/auth/health/`)

  const { apiKey } = await seedUser(await group.store())
  const statuses = new Map<number, number>()
  let answered = 0
  let done = false
  const clients = Array.from({ length: CLIENTS }, async (_, client) => {
    await Bun.sleep((200 * client) / CLIENTS)
    for (let n = 0; !done; n++) {
      const res = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama3.2', stream: n % 2 === 0, messages: [{ role: 'user', content: 'Hello' }] }),
      })
      const body = await res.text()
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      if (res.status === 200 && (n % 2 === 1 || (body.endsWith('data: [DONE]\n\n') && !body.includes('event: error')))) answered++
      else console.error(`answered ${res.status}: ${body.slice(0, 200)}`)
    }
  })
  const load = Promise.all(clients)

  await Bun.sleep(1_000)
  for (const index of [0, 1]) {
    const started = performance.now()
    await group.replicas[index]!.terminate()
    await group.restart(index)
    console.log(`gateway-${index + 1}: drained, exited and serving again in ${Math.round(performance.now() - started)} ms`)
    await Bun.sleep(1_000)
  }
  done = true
  await load
  for (const replica of group.replicas) await replica.terminate()
  await Promise.all(group.replicas.map((replica) => replica.exited))

  const rows = (await logRows(await group.store())).filter((row) => row.path === '/v1/chat/completions')
  const ok = rows.filter((row) => row.status === 200).length
  const refusedThenRetried = rows.filter((row) => row.errorType === 'server_shutting_down').length
  console.log(`statuses at the client: ${JSON.stringify(Object.fromEntries(statuses))}`)
  console.log(`request log: ${ok} chats answered 200 (client counted ${answered}), ${refusedThenRetried} refused with 503 by a draining replica (for nginx to retry)`)
  const lost = [...statuses].some(([status]) => status !== 200) || ok !== answered
  console.log(lost ? 'FAIL: a request was not answered 200, or its row is missing' : 'PASS: nothing lost')
  process.exitCode = lost ? 1 : 0
} finally {
  proxy?.kill()
  await proxy?.exited
  await group.stop()
  await deleteTestKeys()
  rmSync(folder, { recursive: true, force: true })
}
process.exit()
