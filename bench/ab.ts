// `bun bench/ab.ts <checkout>[@NAME=value,…] <checkout>[@…] …`: the CPU time per request of the
// gateway from each checkout (e.g. a worktree of main and the working tree), with the settings
// after `@` if any (`.@OTEL_EXPORTER_OTLP_ENDPOINT=sink`: `sink` is an OTLP receiver in this
// process that takes and drops what it is sent), each its own `serve` process on one
// fake Ollama, their runs interleaved, in one run: how a change is judged on a shared machine,
// where contention stretches wall-clock figures far more than the CPU a request takes. S2 (16
// clients, 60 chunks, no delay) and 1 client back to back (20 chunks); BENCH_ROUNDS rounds
// (default 4) of BENCH_SECONDS (default 2) each; BENCH_EACH_ROUND=1 prints each round's figures.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../test/support/process'
import { cpuSeconds, load, noSamples, seedApiKey, setScenario, SECRET } from './support/streaming-load'

const targets = process.argv.slice(2).map((argument) => {
  const [path, settings = ''] = argument.split('@')
  const env = Object.fromEntries(settings.split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string]))
  return { name: argument, checkout: resolve(path!), env }
})
if (targets.length < 2) throw new Error('usage: bun bench/ab.ts <checkout>[@NAME=value,…] <checkout>[@…] …')
const rounds = Number(process.env.BENCH_ROUNDS ?? 4)
const seconds = Number(process.env.BENCH_SECONDS ?? 2)
const dir = mkdtempSync(join(tmpdir(), 'ai-studio-ab-'))
const children: Bun.Subprocess[] = []
const sink = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: async (request) => (await request.arrayBuffer(), Response.json({})) })
try {
  const fakeUrl = `http://127.0.0.1:${await freePort()}`
  children.push(Bun.spawn(['bun', 'test/support/fake-ollama.ts', '--port', new URL(fakeUrl).port], { cwd: join(import.meta.dir, '..'), stdout: 'ignore', stderr: 'inherit' }))
  await waitFor(`${fakeUrl}/api/version`)
  const gateways: { name: string; url: string; key: string; pid: number }[] = []
  for (const [i, { name, checkout, env: settings }] of targets.entries()) {
    const port = await freePort()
    const databaseUrl = `sqlite://${join(dir, `${i}.db`)}`
    const key = await seedApiKey(databaseUrl)
    const given = Object.fromEntries(Object.entries(settings).map(([name, value]) => [name, value === 'sink' ? `http://127.0.0.1:${sink.port}` : value]))
    const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production', DATABASE_URL: databaseUrl, SECRET_KEY: SECRET, OLLAMA_BASE_URL: fakeUrl, ...given }
    // The limits on, never reached: every request pays its checks.
    const child = Bun.spawn(['bun', 'src/index.ts', 'serve'], { cwd: checkout, env: { ...env, RATE_LIMIT_CHAT: '1000000', MAX_CONCURRENT_REQUESTS: '1000' }, stdout: 'ignore', stderr: 'inherit' })
    children.push(child)
    await waitFor(`http://127.0.0.1:${port}/api/auth/health`, 30_000)
    gateways.push({ name, url: `http://127.0.0.1:${port}/v1/chat/completions`, key, pid: child.pid })
  }
  const scenarios = [
    { name: 'S2, 16 clients', chunks: 60, chunkDelayMs: 0, clients: 16 },
    { name: '1 client', chunks: 20, chunkDelayMs: 0, clients: 1 },
  ]
  const totals = new Map<string, { cpu: number; requests: number }>()
  for (let round = 0; round < rounds; round++)
    for (const scenario of scenarios) {
      await setScenario(fakeUrl, scenario)
      for (const gateway of gateways) {
        const samples = noSamples()
        const before = await cpuSeconds(gateway.pid)
        await load({ name: gateway.name, urls: [gateway.url], headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.key}` } }, scenario, seconds, samples)
        const key = `${scenario.name} | ${gateway.name}`
        const total = totals.get(key) ?? { cpu: 0, requests: 0 }
        const cpu = (await cpuSeconds(gateway.pid)) - before
        total.cpu += cpu
        total.requests += samples.total.length
        // BENCH_EACH_ROUND=1: each round's figure too (how the JIT's warm-up fades).
        if (process.env.BENCH_EACH_ROUND === '1') console.log(`round ${round + 1} | ${key}: CPU ${((cpu / samples.total.length) * 1e6).toFixed(0)} µs per request`)
        totals.set(key, total)
      }
    }
  for (const [key, { cpu, requests }] of totals) console.log(`${key}: ${requests} requests, CPU ${((cpu / requests) * 1e6).toFixed(0)} µs per request`)
} finally {
  for (const child of children) child.kill()
  await Promise.all(children.map((child) => child.exited))
  sink.stop(true)
  rmSync(dir, { recursive: true, force: true })
}
