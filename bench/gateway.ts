// Streaming chat through the gateway against the same fake upstream reached directly (its
// OpenAI-compatible endpoint, as a real Ollama serves it), through the Portkey gateway and
// through a bare Bun pass-through proxy (bench/passthrough.ts: the floor for any Bun gateway).
// The gateway runs twice, on SQLite and on PostgreSQL (BENCH_POSTGRES_URL, default this
// machine's database `test`, in a schema of its own dropped afterwards; BENCH_POSTGRES=0 skips it).
// Each party runs in its own process; this process only generates load and measures.
// Prints requests/s, time to first byte p50/p99 and the added latency, as ratios to direct.
// A second SQLite gateway runs with its metrics on (METRICS_TOKEN), scraped every second for the
// whole run, and its traces exported (OTLP/HTTP to a sink in this process): on S1 (LLM-like, 64
// clients) and S2 (CPU-bound, 16 clients) it must keep ≥ 97 % of the plain gateway's throughput
// (issue 19).
import { SQL } from 'bun'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from '../test/support/process'
import { benchProcesses, cpuSeconds, load, noSamples, printTable, SECRET, seedApiKey, setScenario, summary, type Samples, type Scenario, type Target } from './support/streaming-load'

// Each target gets ROUNDS runs of SECONDS, interleaved with the others', so that the noise of a
// shared machine falls on all of them alike.
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP_SECONDS = 1

const allScenarios: Scenario[] = [
  { name: 'LLM-like (20 chunks, 10 ms apart)', chunks: 20, chunkDelayMs: 10, clients: 1 },
  { name: 'LLM-like (20 chunks, 10 ms apart)', chunks: 20, chunkDelayMs: 10, clients: 16 },
  { name: 'LLM-like (20 chunks, 10 ms apart)', chunks: 20, chunkDelayMs: 10, clients: 64, budget: { throughput: 0.95, addedTtftP50Ms: 1 } },
  { name: 'LLM-like, lockstep starts', chunks: 20, chunkDelayMs: 10, clients: 64, lockstep: true },
  { name: 'CPU-bound (60 chunks, no delay)', chunks: 60, chunkDelayMs: 0, clients: 16, budget: { throughput: 0.5 } },
  { name: 'CPU-bound, reply in one write', chunks: 60, chunkDelayMs: 0, clients: 16, mergeWrites: true },
]
// BENCH_ONLY=CPU runs only the scenarios whose name contains it.
const scenarios = allScenarios.filter((scenario) => scenario.name.includes(process.env.BENCH_ONLY ?? ''))

const root = join(import.meta.dir, '..')
const postgresUrl = process.env.BENCH_POSTGRES === '0' ? undefined : (process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
const postgresSchema = `bench_gateway_${process.pid}`
const processes = benchProcesses(root)
const METRICS_TOKEN = 'bench-metrics-token-0123456789abcdef'
/** The scenarios the metrics budget is judged on: S1 and S2 (see bench/apis.ts). */
const metricsBudget = (scenario: Scenario) => (scenario.name.startsWith('LLM-like (') && scenario.clients === 64) || (scenario.name.startsWith('CPU-bound (') && scenario.clients === 16)

let scraper: Timer | undefined
let stopTraceSink = () => {}
let countTraceExports = () => 0

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ai-studio-bench-'))
  const [fakePort, gatewayPort, postgresGatewayPort, portkeyPort, proxyPort, metricsGatewayPort] = (await Promise.all(Array.from({ length: 6 }, () => freePort()))) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const fakeUrl = `http://127.0.0.1:${fakePort}`
  const admin = postgresUrl ? new SQL(postgresUrl) : undefined
  try {
    processes.start(['bun', 'test/support/fake-ollama.ts', '--port', String(fakePort)])
    /** A gateway over `databaseUrl`, with a user whose API key is returned. */
    const gateway = async (databaseUrl: string, port: number, env: Record<string, string> = {}) => {
      const apiKey = await seedApiKey(databaseUrl)
      const child = await processes.serve(port, {
        DATABASE_URL: databaseUrl,
        SECRET_KEY: SECRET,
        OLLAMA_BASE_URL: fakeUrl,
        RATE_LIMIT_CHAT: '0',
        // One user is every client here: the cap stays on (its cost counts) but above any scenario's clients.
        MAX_CONCURRENT_REQUESTS: '1000',
        ...env,
      })
      return { apiKey, pid: child.pid }
    }
    const { apiKey, pid: plainPid } = await gateway(`sqlite://${join(dir, 'bench.db')}`, gatewayPort)
    // Where the traced gateway exports its spans: read and dropped, as a collector's receiver would take them.
    let traceExports = 0
    const traceSink = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(request) {
        await request.arrayBuffer()
        traceExports++
        return Response.json({})
      },
    })
    stopTraceSink = () => traceSink.stop(true)
    countTraceExports = () => traceExports
    const { apiKey: metricsApiKey, pid: metricsPid } = await gateway(`sqlite://${join(dir, 'bench-metrics.db')}`, metricsGatewayPort, {
      METRICS_TOKEN,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${traceSink.port}`,
    })
    /** The processes whose CPU time per request is measured: the gateway with its metrics off and on. */
    const measured = new Map([
      ['gateway', plainPid],
      ['gateway, metrics and traces on', metricsPid],
    ])
    // Scraped every second while the bench runs, as Prometheus would (its usual interval is 15 s).
    let scrapes = 0
    scraper = setInterval(async () => {
      const res = await fetch(`http://127.0.0.1:${metricsGatewayPort}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }).catch(() => undefined)
      if (res?.ok && (await res.text()).includes('gen_ai_client_token_usage')) scrapes++
    }, 1000)
    let postgresApiKey: string | undefined
    if (postgresUrl && admin) {
      await admin.unsafe(`DROP SCHEMA IF EXISTS ${postgresSchema} CASCADE`)
      const url = new URL(postgresUrl)
      url.searchParams.set('schema', postgresSchema)
      postgresApiKey = (await gateway(url.toString(), postgresGatewayPort)).apiKey
    }
    processes.start(['bun', 'node_modules/@portkey-ai/gateway/build/start-server.js', `--port=${portkeyPort}`, '--headless'])
    processes.start(['bun', 'bench/passthrough.ts', '--port', String(proxyPort), '--upstream', fakeUrl])
    await waitFor(`${fakeUrl}/api/version`)
    await waitFor(`http://127.0.0.1:${portkeyPort}/`, 30_000)
    await waitFor(`http://127.0.0.1:${proxyPort}/api/version`)

    const json = { 'content-type': 'application/json' }
    const targets: Target[] = [
      { name: 'direct', urls: [`${fakeUrl}/v1/chat/completions`], headers: json },
      { name: 'gateway', urls: [`http://127.0.0.1:${gatewayPort}/v1/chat/completions`], headers: { ...json, authorization: `Bearer ${apiKey}` } },
      { name: 'gateway, metrics and traces on', urls: [`http://127.0.0.1:${metricsGatewayPort}/v1/chat/completions`], headers: { ...json, authorization: `Bearer ${metricsApiKey}` } },
      ...(postgresApiKey
        ? [{ name: 'gateway on PostgreSQL', urls: [`http://127.0.0.1:${postgresGatewayPort}/v1/chat/completions`], headers: { ...json, authorization: `Bearer ${postgresApiKey}` } }]
        : []),
      {
        name: 'portkey',
        urls: [`http://127.0.0.1:${portkeyPort}/v1/chat/completions`],
        headers: { ...json, authorization: 'Bearer ollama', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${fakeUrl}/v1` },
      },
      { name: 'bun proxy', urls: [`http://127.0.0.1:${proxyPort}/v1/chat/completions`], headers: json },
    ]

    const cpus = navigator.hardwareConcurrency
    console.log(`\nGateway benchmark — Bun ${Bun.version}, ${cpus} CPUs; per scenario and target ${ROUNDS} interleaved runs of ${SECONDS} s after ${WARMUP_SECONDS} s warm-up\n`)
    const header = ['scenario', 'clients', 'target', 'req/s', '× direct', 'TTFB p50 ms', 'TTFB p99 ms', 'added p50 ms', 'added p99 ms', 'total p50 ms', 'failed']
    const rows: string[][] = []
    const verdicts: string[] = []
    for (const scenario of scenarios) {
      await setScenario(fakeUrl, scenario)
      const samples = new Map<string, Samples>(targets.map((target) => [target.name, noSamples()]))
      for (const target of targets) await load(target, scenario, WARMUP_SECONDS, noSamples())
      const cpu = new Map<string, number>()
      for (let round = 0; round < ROUNDS; round++)
        for (const target of targets) {
          const pid = measured.get(target.name)
          const before = pid === undefined ? 0 : await cpuSeconds(pid)
          await load(target, scenario, SECONDS, samples.get(target.name)!)
          if (pid !== undefined) cpu.set(target.name, (cpu.get(target.name) ?? 0) + (await cpuSeconds(pid)) - before)
        }
      const results = new Map([...samples].map(([name, taken]) => [name, summary(taken)]))
      const direct = results.get('direct')!
      for (const target of targets) {
        const r = results.get(target.name)!
        const added = (a: number, b: number) => (target.name === 'direct' ? '' : (a - b).toFixed(2))
        rows.push([
          scenario.name,
          String(scenario.clients),
          target.name,
          r.rps.toFixed(1),
          (r.rps / direct.rps).toFixed(3),
          r.ttftP50.toFixed(2),
          r.ttftP99.toFixed(2),
          added(r.ttftP50, direct.ttftP50),
          added(r.ttftP99, direct.ttftP99),
          r.totalP50.toFixed(2),
          String(r.failed),
        ])
      }
      const gateway = results.get('gateway')!
      if (metricsBudget(scenario)) {
        const on = results.get('gateway, metrics and traces on')!
        const relative = on.rps / gateway.rps
        const cpuPerRequest = (name: string) => (cpu.get(name)! / results.get(name)!.requests) * 1000
        const cpuRatio = cpuPerRequest('gateway, metrics and traces on') / cpuPerRequest('gateway')
        verdicts.push(
          `${relative >= 0.97 ? 'PASS' : 'MISS'} ${scenario.name}, ${scenario.clients} clients: the gateway with metrics on (scraped every second) and traces exported keeps ${(relative * 100).toFixed(1)} % of its throughput with them off (budget ≥ 97 %); ` +
            `CPU per request ${cpuPerRequest('gateway, metrics and traces on').toFixed(3)} ms on vs ${cpuPerRequest('gateway').toFixed(3)} ms off (× ${cpuRatio.toFixed(3)}, so ≥ ${((1 / cpuRatio) * 100).toFixed(1)} % of the throughput where CPU bounds it)`,
        )
      }
      const onPostgres = results.get('gateway on PostgreSQL')
      if (onPostgres) {
        const relative = onPostgres.rps / gateway.rps
        verdicts.push(
          `${relative >= 0.95 ? 'PASS' : 'MISS'} ${scenario.name}, ${scenario.clients} clients: the gateway on PostgreSQL keeps ${(relative * 100).toFixed(1)} % of its throughput on SQLite (budget ≥ 95 %)`,
        )
      }
      if (scenario.budget) {
        const ratio = gateway.rps / direct.rps
        const added = gateway.ttftP50 - direct.ttftP50
        const okThroughput = ratio >= scenario.budget.throughput
        const okTtft = scenario.budget.addedTtftP50Ms === undefined || added < scenario.budget.addedTtftP50Ms
        verdicts.push(
          `${okThroughput && okTtft ? 'PASS' : 'MISS'} ${scenario.name}, ${scenario.clients} clients: gateway keeps ${(ratio * 100).toFixed(1)} % of direct throughput (budget ≥ ${scenario.budget.throughput * 100} %)` +
            (scenario.budget.addedTtftP50Ms === undefined ? '' : `, adds ${added.toFixed(2)} ms to TTFB p50 (budget < ${scenario.budget.addedTtftP50Ms} ms)`),
        )
      }
    }
    printTable(header, rows)
    console.log(`\n${verdicts.join('\n')}\n`)
    console.log(`${scrapes} scrapes of the gateway with metrics on during the run, ${countTraceExports()} trace exports from it\n`)
  } finally {
    clearInterval(scraper)
    await processes.stopAll()
    // After the gateways: the traced one sends what it still holds as it stops.
    stopTraceSink()
    rmSync(dir, { recursive: true, force: true })
    await admin?.unsafe(`DROP SCHEMA IF EXISTS ${postgresSchema} CASCADE`)
    await admin?.close()
  }
}

await main()
