// What hostile bodies cost the real server: deeply nested JSON (the body that used to stall the
// event loop for seconds and take gigabytes), a wide body just within the nesting limit that fails
// validation, and a body of the wrong content type, sent by a
// signed-in user to POST /v1/chat/completions, with and without NODE_ENV=production. Prints the
// refusal's latency, the latency of health checks sent meanwhile (is the event loop free?) and
// how much the server's resident memory grew, set against the same run of ordinary invalid
// bodies (a schema error) as the baseline.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, run, waitFor } from '../test/support/process'
import { rssMb } from './support/streaming-load'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200)
const root = join(import.meta.dir, '..')

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
const bodies: [string, string, string][] = [
  ['schema error (baseline)', 'application/json', JSON.stringify({ model: 'm', messages: 'not a list' })],
  ['nested 30,000 deep (60 KB)', 'application/json', nested(30_000)],
  ['nested 500,000 deep (1 MB, the size limit)', 'application/json', nested(500_000)],
  ['wide: 200,000 numbers 99 deep in a field (schema error)', 'application/json', `{"model":"m","messages":[],"user":${'['.repeat(98)}${Array(200_000).fill(0).join(',')}${']'.repeat(98)}}`],
  ['a form (415)', 'application/x-www-form-urlencoded', 'model=m&' + 'x=1&'.repeat(20_000)],
]

const pct = (values: number[], p: number) => values.slice().sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!

async function mode(production: boolean) {
  const folder = mkdtempSync(join(tmpdir(), 'studio-bench-hostile-'))
  const env = {
    DATABASE_URL: `sqlite://${join(folder, 'studio.db')}`,
    SECRET_KEY: 'bench-hostile-secret-key-0123456789abcdefghij',
    RATE_LIMIT_CHAT: '0',
    RATE_LIMIT_ANONYMOUS: '0',
    ...(production ? { NODE_ENV: 'production' } : {}),
  }
  await run(['bun', join(root, 'src/index.ts'), 'create-superuser', '--email', 'bench@example.com', '--password', 'bench password'], { cwd: folder, env })
  const key = (await run(['bun', join(root, 'src/index.ts'), 'create-api-key', '--email', 'bench@example.com'], { cwd: folder, env })).stdout.trim()
  const port = await freePort()
  const server = Bun.spawn(['bun', join(root, 'src/index.ts'), 'serve'], {
    cwd: folder,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  const base = `http://127.0.0.1:${port}`
  await waitFor(`${base}/api/auth/health/`)
  console.log(`\nNODE_ENV=${production ? 'production' : '(unset)'}: ${REQUESTS} requests each, 4 at a time, health checked alongside`)
  console.log('| body | refusal p50 | refusal p99 | health p99 meanwhile | RSS growth |')
  console.log('| --- | --- | --- | --- | --- |')
  for (const [name, type, body] of bodies) {
    Bun.gc(true)
    const rssBefore = rssMb(server.pid)
    let peak = rssBefore
    const refusals: number[] = []
    const health: number[] = []
    let done = false
    const prober = (async () => {
      while (!done) {
        const started = performance.now()
        await (await fetch(`${base}/api/auth/health/`)).arrayBuffer()
        health.push(performance.now() - started)
        peak = Math.max(peak, rssMb(server.pid))
        await Bun.sleep(5)
      }
    })()
    let sent = 0
    const worker = async () => {
      while (sent++ < REQUESTS) {
        const started = performance.now()
        const res = await fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': type },
          body,
        })
        await res.arrayBuffer()
        if (res.status !== 400 && res.status !== 415) throw new Error(`${name}: answered ${res.status}`)
        refusals.push(performance.now() - started)
      }
    }
    await Promise.all([worker(), worker(), worker(), worker()])
    done = true
    await prober
    peak = Math.max(peak, rssMb(server.pid))
    const f = (ms: number) => `${ms.toFixed(2)} ms`
    console.log(`| ${name} | ${f(pct(refusals, 50))} | ${f(pct(refusals, 99))} | ${f(pct(health, 99))} | +${(peak - rssBefore).toFixed(1)} MB |`)
  }
  server.kill()
  await server.exited
  rmSync(folder, { recursive: true, force: true })
}

await mode(false)
await mode(true)
