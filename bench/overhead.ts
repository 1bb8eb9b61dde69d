// The gateway's own overhead (issue 20): in one run, on one fake Ollama, the same requests sent
// direct to the fake, through a bare Bun pass-through proxy (bench/passthrough.ts: the floor for
// any Bun gateway), through the gateway on SQLite, the gateway on PostgreSQL + Redis, and Portkey.
// Every figure is printed against the bare proxy's in the same run: added latency at 1 client
// (streamed and not, back to back and with 10 ms pauses between requests), S1 and S2, a
// non-streamed saturation run, each server process's CPU time per request, and the gateways' RSS
// idle and with 64 open streams; then whether each of issue 20's budgets is met.
//
// The gateways run as `serve` runs them (logging on, metrics off), requests authenticated by an
// API key, the chat rate limit on but far above the load and the per-user concurrency cap at
// 1000 (one user is every client here), other limits at their defaults.
// PostgreSQL: BENCH_POSTGRES_URL (default this machine's database `test`), in a schema of its own
// dropped afterwards; Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379), under a prefix of
// its own deleted afterwards. BENCH_QUICK=1 (`bun run bench:quick`): shorter runs, same figures.
// BENCH_SECONDS, BENCH_ROUNDS and BENCH_ONLY as in bench/gateway.ts. BENCH_PROFILE=<dir>: both
// gateways and the bare proxy run under `bun --cpu-prof --cpu-prof-md`, their profiles
// (.cpuprofile and .md) written there when the bench ends (the whole run, start-up included:
// BENCH_ONLY narrows it), and the bench prints how to read each with bench/profile.ts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from '../test/support/process'
import { benchProcesses, benchStores, cpuSeconds, load, loadedGatewayEnv, noSamples, percentile, printTable, rssMb, seedApiKey, setScenario, type Samples, type Scenario, type Target } from './support/streaming-load'

const QUICK = process.env.BENCH_QUICK === '1'
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 0.8 : 2))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3))
const WARMUP_SECONDS = QUICK ? 0.3 : 1

/** `streamed: false` asks for one JSON reply; `kind` says which budgets judge the phase. */
type Phase = Scenario & { streamed: boolean; kind: 'one client' | 'S1' | 'S2' | 'saturation' }
const oneClient = { clients: 1, chunks: 20, chunkDelayMs: 0, kind: 'one client' } as const
const allPhases: Phase[] = [
  { ...oneClient, name: '1 client, streamed (20 chunks), back to back', streamed: true },
  { ...oneClient, name: '1 client, streamed (20 chunks), 10 ms pauses', streamed: true, pauseMs: 10 },
  { ...oneClient, name: '1 client, not streamed, back to back', streamed: false },
  { ...oneClient, name: '1 client, not streamed, 10 ms pauses', streamed: false, pauseMs: 10 },
  { name: 'S1 LLM-like (20 chunks, 10 ms apart)', clients: 64, chunks: 20, chunkDelayMs: 10, streamed: true, kind: 'S1' },
  { name: 'S2 CPU-bound (60 chunks, no delay)', clients: 16, chunks: 60, chunkDelayMs: 0, streamed: true, kind: 'S2' },
  { name: 'saturation, not streamed', clients: 16, chunks: 20, chunkDelayMs: 0, streamed: false, kind: 'saturation' },
]
const profileDir = process.env.BENCH_PROFILE
const phases = allPhases.filter((phase) => phase.name.includes(process.env.BENCH_ONLY ?? ''))
/** Bun's flags that profile the server `name` when BENCH_PROFILE is set; its profile is named after it. */
const profiler = (name: string) => (profileDir ? ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${profileFile(name)}`] : [])
const profileFile = (name: string) => name.replace(/\W+/g, '-')

const root = join(import.meta.dir, '..')
const stores = benchStores('overhead')
const { databaseUrl, redisUrl, redisPrefix } = stores
const processes = benchProcesses(root)

const DIRECT = 'direct'
const PROXY = 'bun proxy'
const SQLITE = 'gateway, SQLite'
const POSTGRES = 'gateway, PostgreSQL + Redis'
const PORTKEY = 'portkey'
const GATEWAYS = [SQLITE, POSTGRES]

/** A server under test: where its streamed and non-streamed requests go, and its process (for CPU and RSS). */
type Server = { name: string; pid: number; streamed: Target; single: Target }

const question = [{ role: 'user', content: 'Tell me a story.' }]
const singleBody = JSON.stringify({ model: 'llama3.2', stream: false, messages: question })
const json = { 'content-type': 'application/json' }

/** Ollama's own non-streamed chat (`/api/chat`), which the fake's OpenAI endpoint does not serve: what direct, the proxy and Portkey relay. */
const ollamaSingle = (name: string, base: string, headers: Record<string, string> = json): Target => ({ name, urls: [`${base}/api/chat`], headers, body: singleBody, ends: '"done":true' })

type Figures = { rps: number; requests: number; ttftP50: number; p50: number; p90: number; p99: number; cpuUs: number; failed: number }

function figures(samples: Samples, cpu: number): Figures {
  const ttft = samples.ttft.toSorted((a, b) => a - b)
  const total = samples.total.toSorted((a, b) => a - b)
  return {
    rps: total.length / samples.seconds,
    requests: total.length,
    ttftP50: percentile(ttft, 50),
    p50: percentile(total, 50),
    p90: percentile(total, 90),
    p99: percentile(total, 99),
    cpuUs: (cpu / total.length) * 1e6,
    failed: samples.failed,
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ai-studio-bench-overhead-'))
  const [fakePort, proxyPort, sqlitePort, postgresPort, portkeyPort] = (await Promise.all(Array.from({ length: 5 }, () => freePort()))) as number[]
  const fakeUrl = `http://127.0.0.1:${fakePort}`
  try {
    const fake = processes.start(['bun', 'test/support/fake-ollama.ts', '--port', String(fakePort)])
    await waitFor(`${fakeUrl}/api/version`)
    const common = loadedGatewayEnv(fakeUrl)
    /** A gateway on `database` (with `env`) and a user's API key. */
    const gateway = async (name: string, port: number, database: string, env: Record<string, string> = {}): Promise<Server> => {
      const apiKey = await seedApiKey(database)
      const child = await processes.serve(port, { ...common, DATABASE_URL: database, ...env }, profiler(name))
      const url = `http://127.0.0.1:${port}/v1/chat/completions`
      const headers = { ...json, authorization: `Bearer ${apiKey}` }
      return { name, pid: child.pid, streamed: { name, urls: [url], headers }, single: { name, urls: [url], headers, body: singleBody, ends: '"finish_reason"' } }
    }
    const sqlite = await gateway(SQLITE, sqlitePort!, `sqlite://${join(dir, 'bench.db')}`)
    await stores.fresh()
    const postgres = await gateway(POSTGRES, postgresPort!, databaseUrl, { REDIS_URL: redisUrl, REDIS_PREFIX: redisPrefix })
    const proxy = processes.start(['bun', ...profiler(PROXY), 'bench/passthrough.ts', '--port', String(proxyPort), '--upstream', fakeUrl])
    const portkey = processes.start(['bun', 'node_modules/@portkey-ai/gateway/build/start-server.js', `--port=${portkeyPort}`, '--headless'])
    const proxyUrl = `http://127.0.0.1:${proxyPort}`
    const portkeyUrl = `http://127.0.0.1:${portkeyPort}`
    await waitFor(`${proxyUrl}/api/version`)
    await waitFor(`${portkeyUrl}/`, 30_000)

    const portkeyHeaders = { ...json, authorization: 'Bearer ollama', 'x-portkey-provider': 'openai' }
    const servers: Server[] = [
      { name: DIRECT, pid: fake.pid, streamed: { name: DIRECT, urls: [`${fakeUrl}/v1/chat/completions`], headers: json }, single: ollamaSingle(DIRECT, fakeUrl) },
      { name: PROXY, pid: proxy.pid, streamed: { name: PROXY, urls: [`${proxyUrl}/v1/chat/completions`], headers: json }, single: ollamaSingle(PROXY, proxyUrl) },
      sqlite,
      postgres,
      {
        name: PORTKEY,
        pid: portkey.pid,
        streamed: { name: PORTKEY, urls: [`${portkeyUrl}/v1/chat/completions`], headers: { ...portkeyHeaders, 'x-portkey-custom-host': `${fakeUrl}/v1` } },
        // Portkey's OpenAI provider cannot read the fake's (always streamed) OpenAI endpoint as one
        // reply: its pass-through route forwards /v1/api/chat to the custom host as it is.
        single: { ...ollamaSingle(PORTKEY, portkeyUrl, { ...portkeyHeaders, 'x-portkey-custom-host': fakeUrl }), urls: [`${portkeyUrl}/v1/api/chat`] },
      },
    ]

    console.log(
      `\nGateway overhead — Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs${QUICK ? ', quick' : ''}; per phase and target ${ROUNDS} interleaved run(s) of ${SECONDS} s after ${WARMUP_SECONDS} s warm-up.\n` +
        `Gateways as \`serve\` runs them (logging on), API-key auth, RATE_LIMIT_CHAT=1000000 (on, never reached), MAX_CONCURRENT_REQUESTS=1000, other limits at their defaults.\n` +
        `Latency: request sent to last byte; "+" columns: minus the bare proxy's in the same phase. CPU: the server process's user + system time over the requests it served\n` +
        `(direct: the fake's own). Non-streamed requests go to Ollama's /api/chat for direct, the proxy and Portkey (its pass-through route), to /v1/chat/completions for the gateways.\n`,
    )
    await Bun.sleep(500)
    const idleRss = new Map(servers.map((server) => [server.name, rssMb(server.pid)]))
    const streamsRss = new Map<string, number>()
    const results = new Map<Phase, Map<string, Figures>>()
    /** Requests each server was sent, warm-ups included (what its profile covers). */
    const served = new Map<string, number>()
    for (const phase of phases) {
      await setScenario(fakeUrl, phase)
      const targetOf = (server: Server) => (phase.streamed ? server.streamed : server.single)
      for (const server of servers) {
        const warmup = noSamples()
        await load(targetOf(server), phase, WARMUP_SECONDS, warmup)
        served.set(server.name, (served.get(server.name) ?? 0) + warmup.total.length + warmup.failed)
      }
      const samples = new Map(servers.map((server) => [server.name, noSamples()]))
      const cpu = new Map(servers.map((server) => [server.name, 0]))
      for (let round = 0; round < ROUNDS; round++)
        for (const server of round % 2 ? servers.toReversed() : servers) {
          // With 64 clients on S1 some 64 streams are open at any moment: the peak RSS meanwhile.
          const sampler = phase.kind === 'S1' ? setInterval(() => streamsRss.set(server.name, Math.max(streamsRss.get(server.name) ?? 0, rssMb(server.pid))), 50) : undefined
          const before = await cpuSeconds(server.pid)
          await load(targetOf(server), phase, SECONDS, samples.get(server.name)!)
          cpu.set(server.name, cpu.get(server.name)! + (await cpuSeconds(server.pid)) - before)
          clearInterval(sampler)
        }
      for (const [name, taken] of samples) served.set(name, served.get(name)! + taken.total.length + taken.failed)
      results.set(phase, new Map(servers.map((server) => [server.name, figures(samples.get(server.name)!, cpu.get(server.name)!)])))
    }
    await Bun.sleep(1000)
    const afterRss = new Map(servers.map((server) => [server.name, rssMb(server.pid)]))

    const rows: string[][] = []
    const signed = (value: number) => (value >= 0 ? '+' : '') + value.toFixed(2)
    for (const [phase, byServer] of results) {
      const bare = byServer.get(PROXY)!
      for (const server of servers) {
        const r = byServer.get(server.name)!
        rows.push([
          phase.name,
          String(phase.clients),
          server.name,
          r.rps.toFixed(1),
          (r.rps / bare.rps).toFixed(3),
          r.ttftP50.toFixed(2),
          signed(r.ttftP50 - bare.ttftP50),
          r.p50.toFixed(2),
          signed(r.p50 - bare.p50),
          signed(r.p90 - bare.p90),
          signed(r.p99 - bare.p99),
          r.cpuUs.toFixed(0),
          (r.cpuUs / bare.cpuUs).toFixed(2),
          String(r.failed),
        ])
      }
    }
    const header = ['phase', 'clients', 'target', 'req/s', '× proxy', 'TTFT p50 ms', '+TTFT p50', 'latency p50 ms', '+p50', '+p90', '+p99', 'CPU µs/req', '× proxy CPU', 'failed']
    printTable(header, rows)

    console.log('\nResident memory (MiB): idle after start, peak during S1 (64 open streams), idle after the run; in brackets the difference to the bare proxy.\n')
    const mib = (figure: Map<string, number>, name: string) => {
      const value = figure.get(name)
      const bare = figure.get(PROXY)
      return value === undefined ? '' : `${value.toFixed(1)}${name === PROXY || bare === undefined ? '' : ` (${signed(value - bare)})`}`
    }
    printTable(
      ['target', 'idle', '64 open streams', 'idle after the run'],
      servers.map((server) => [server.name, mib(idleRss, server.name), mib(streamsRss, server.name), mib(afterRss, server.name)]),
    )

    const verdicts: string[] = []
    const judge = (ok: boolean, text: string) => verdicts.push(`${ok ? 'PASS' : 'MISS'} ${text}`)
    for (const [phase, byServer] of results) {
      const bare = byServer.get(PROXY)!
      const lite = byServer.get(SQLITE)!
      const onPostgres = byServer.get(POSTGRES)!
      if (phase.kind === 'one client') {
        judge(lite.p50 - bare.p50 <= 0.3, `${phase.name}: SQLite adds ${signed(lite.p50 - bare.p50)} ms p50 to the bare proxy's (budget ≤ +0.3 ms)`)
        judge(lite.p99 - bare.p99 <= 1, `${phase.name}: SQLite p99 ${signed(lite.p99 - bare.p99)} ms over the bare proxy's (budget ≤ +1 ms)`)
        judge(onPostgres.p50 - bare.p50 <= 0.8, `${phase.name}: PostgreSQL + Redis adds ${signed(onPostgres.p50 - bare.p50)} ms p50 (budget ≤ +0.8 ms)`)
        continue
      }
      const cpuRatio = lite.cpuUs / bare.cpuUs
      judge(cpuRatio <= 1.5, `${phase.name}: SQLite CPU per request ${lite.cpuUs.toFixed(0)} µs, ${cpuRatio.toFixed(2)} × the bare proxy's ${bare.cpuUs.toFixed(0)} µs (budget ≤ 1.5 ×)`)
      if (phase.kind === 'S1') judge(lite.ttftP50 - bare.ttftP50 <= 0.5, `${phase.name}: SQLite adds ${signed(lite.ttftP50 - bare.ttftP50)} ms to TTFT p50 (budget ≤ +0.5 ms)`)
      if (phase.kind === 'S2') judge(lite.rps / bare.rps >= 0.9, `${phase.name}: SQLite serves ${(lite.rps / bare.rps).toFixed(3)} × the bare proxy's requests/s (budget ≥ 0.9)`)
      if (phase.kind === 'saturation') verdicts.push(`     ${phase.name}: SQLite ${lite.rps.toFixed(0)} req/s, PostgreSQL + Redis ${onPostgres.rps.toFixed(0)}, bare proxy ${bare.rps.toFixed(0)} (no budget)`)
    }
    for (const name of GATEWAYS) {
      judge(idleRss.get(name)! < 80, `${name}: idle RSS ${idleRss.get(name)!.toFixed(1)} MiB after start (budget < 80 MB); ${afterRss.get(name)!.toFixed(1)} MiB idle after the run`)
      if (streamsRss.has(name)) judge(streamsRss.get(name)! < 150, `${name}: RSS ${streamsRss.get(name)!.toFixed(1)} MiB with 64 open streams (budget < 150 MB)`)
    }
    console.log(`\n${verdicts.join('\n')}\n`)
    if (profileDir)
      for (const name of [PROXY, ...GATEWAYS])
        console.log(`${name}: ${served.get(name)} requests; bun bench/profile.ts ${join(profileDir, profileFile(name))}.cpuprofile --requests ${served.get(name)}`)
  } finally {
    await processes.stopAll()
    rmSync(dir, { recursive: true, force: true })
    await stores.remove()
  }
}

await main()
