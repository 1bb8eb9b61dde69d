// Embeddings throughput through the gateway (POST /v1/embeddings on a real `serve` process, over
// SQLite) against the same fake Ollama reached directly (its /api/embed) and through a bare Bun
// pass-through proxy (bench/passthrough.ts: the floor for any Bun gateway), on batched inputs:
// each request embeds a batch of text chunks, the fake spends a fixed time per input (as a model
// runner does) and answers nomic-embed-text's 768 float32 values per input in Ollama's JSON.
// Closed-loop clients; each target's runs interleaved with the other's. Budget: the gateway keeps
// ≥ 95 % of direct throughput. Run alone: `bun bench/embeddings.ts` (BENCH_SECONDS, BENCH_ROUNDS,
// BENCH_ONLY as in bench/gateway.ts; BENCH_BASELINE, BENCH_GATEWAY_ENV, BENCH_CPU_PROF below).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from '../test/support/process'
import { benchProcesses, printTable, SECRET, seedApiKey } from './support/streaming-load'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP_SECONDS = 1
const MODEL = 'nomic-embed-text'

type Scenario = {
  name: string
  /** Inputs per request. */
  batch: number
  /** The fake's time per input. */
  perInputMs: number
  clients: number
  encoding: 'float' | 'base64'
  budget?: number
}

// 2 ms an input is a GPU's pace for ~130-token chunks with a small embedding model (a CPU takes
// tens of ms): the fast case, where the gateway's own work weighs the most.
const allScenarios: Scenario[] = [
  { name: 'batch of 32, float', batch: 32, perInputMs: 2, clients: 4, encoding: 'float' },
  { name: 'batch of 64, float', batch: 64, perInputMs: 2, clients: 8, encoding: 'float', budget: 0.95 },
  { name: 'batch of 64, base64', batch: 64, perInputMs: 2, clients: 8, encoding: 'base64', budget: 0.95 },
  { name: 'batch of 64, float, 16 clients', batch: 64, perInputMs: 2, clients: 16, encoding: 'float' },
]
const scenarios = allScenarios.filter((scenario) => scenario.name.includes(process.env.BENCH_ONLY ?? ''))

/** 512 different chunks of ~500 characters (~130 tokens), as a RAG pipeline sends them. */
const words = 'the of gateway model vector embedding retrieval document chunk search query answer context token index store'.split(' ')
const chunks = Array.from({ length: 512 }, (_, n) => {
  let text = `Chunk ${n}:`
  for (let i = 0; text.length < 500; i++) text += ` ${words[(n * 7 + i * 13 + ((i * i) % 11)) % words.length]}`
  return text
})

type Target = { name: string; url: string; headers: Record<string, string>; body: (input: string[], scenario: Scenario) => string }
type Samples = { latencies: number[]; failed: number; seconds: number }

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

/** `clients` loops, each sending one batch after another (the next chunks of the pool) until the time is up. */
async function load(target: Target, scenario: Scenario, seconds: number, into: Samples) {
  const started = performance.now()
  const deadline = started + seconds * 1000
  let next = 0
  await Promise.all(
    Array.from({ length: scenario.clients }, async (_, client) => {
      // Independent clients do not arrive together: spread over one request's duration.
      await Bun.sleep((scenario.batch * scenario.perInputMs * client) / scenario.clients)
      while (performance.now() < deadline) {
        const from = (next += scenario.batch) % chunks.length
        const input = Array.from({ length: scenario.batch }, (_, i) => chunks[(from + i) % chunks.length]!)
        const sent = performance.now()
        try {
          const res = await fetch(target.url, { method: 'POST', headers: target.headers, body: target.body(input, scenario) })
          const text = await res.text()
          if (!res.ok || !text.includes('"embedding')) throw new Error(`${target.name}: ${res.status} ${text.slice(0, 200)}`)
          into.latencies.push(performance.now() - sent)
        } catch (error) {
          if (into.failed++ === 0) console.error(String(error))
        }
      }
    }),
  )
  into.seconds += (performance.now() - started) / 1000
}

const root = join(import.meta.dir, '..')
const processes = benchProcesses(root)
// BENCH_BASELINE=<checkout>: that checkout's gateway too (its own database), measured in the same run for a before/after.
const baseline = process.env.BENCH_BASELINE ? benchProcesses(process.env.BENCH_BASELINE) : undefined

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ai-studio-bench-embeddings-'))
  const [fakePort, gatewayPort, proxyPort, baselinePort] = (await Promise.all([freePort(), freePort(), freePort(), freePort()])) as [number, number, number, number]
  const fakeUrl = `http://127.0.0.1:${fakePort}`
  try {
    processes.start(['bun', 'test/support/fake-ollama.ts', '--port', String(fakePort)])
    processes.start(['bun', 'bench/passthrough.ts', '--port', String(proxyPort), '--upstream', fakeUrl])
    await waitFor(`${fakeUrl}/api/version`)
    await waitFor(`http://127.0.0.1:${proxyPort}/api/version`)
    const databaseUrl = `sqlite://${join(dir, 'bench.db')}`
    const apiKey = await seedApiKey(databaseUrl)
    const gatewayEnv = (database: string) => ({
      DATABASE_URL: database,
      SECRET_KEY: SECRET,
      OLLAMA_BASE_URL: fakeUrl,
      RATE_LIMIT_EMBEDDINGS: '0',
      // One user is every client here: the cap stays on (its cost counts) but above any scenario's clients.
      MAX_CONCURRENT_REQUESTS: '1000',
      // BENCH_CPU_PROF=<dir>: the gateway's CPU profile (.cpuprofile and a markdown summary) written there when it stops.
      ...(process.env.BENCH_CPU_PROF ? { BUN_OPTIONS: `--cpu-prof --cpu-prof-md --cpu-prof-dir=${process.env.BENCH_CPU_PROF}` } : {}),
      // BENCH_GATEWAY_ENV="NAME=value …": more environment for the gateways only (say, an allocator setting).
      ...Object.fromEntries((process.env.BENCH_GATEWAY_ENV ?? '').split(' ').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
    })
    await processes.serve(gatewayPort, gatewayEnv(databaseUrl))
    const baselineKey = baseline ? await seedApiKey(`sqlite://${join(dir, 'baseline.db')}`) : ''
    await baseline?.serve(baselinePort, gatewayEnv(`sqlite://${join(dir, 'baseline.db')}`))
    const json = { 'content-type': 'application/json' }
    const targets: Target[] = [
      { name: 'direct', url: `${fakeUrl}/api/embed`, headers: json, body: (input) => JSON.stringify({ model: MODEL, input }) },
      {
        name: 'gateway',
        url: `http://127.0.0.1:${gatewayPort}/v1/embeddings`,
        headers: { ...json, authorization: `Bearer ${apiKey}` },
        body: (input, scenario) => JSON.stringify({ model: MODEL, input, encoding_format: scenario.encoding }),
      },
      { name: 'bun proxy', url: `http://127.0.0.1:${proxyPort}/api/embed`, headers: json, body: (input) => JSON.stringify({ model: MODEL, input }) },
      ...(baseline
        ? [
            {
              name: 'baseline gateway',
              url: `http://127.0.0.1:${baselinePort}/v1/embeddings`,
              headers: { ...json, authorization: `Bearer ${baselineKey}` },
              body: (input: string[], scenario: Scenario) => JSON.stringify({ model: MODEL, input, encoding_format: scenario.encoding }),
            },
          ]
        : []),
    ]

    console.log(
      `\nEmbeddings benchmark — Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs; 768-value vectors of ~500-character chunks; ` +
        `per scenario and target ${ROUNDS} interleaved runs of ${SECONDS} s after ${WARMUP_SECONDS} s warm-up\n`,
    )
    const header = ['scenario', 'ms/input', 'clients', 'target', 'req/s', 'inputs/s', '× direct', 'p50 ms', 'p99 ms', 'failed']
    const rows: string[][] = []
    const verdicts: string[] = []
    for (const scenario of scenarios) {
      await fetch(`${fakeUrl}/_fake/knobs`, { method: 'POST', body: JSON.stringify({ embedDelayMs: scenario.perInputMs }) })
      const samples = new Map<string, Samples>(targets.map((target) => [target.name, { latencies: [], failed: 0, seconds: 0 }]))
      for (const target of targets) await load(target, scenario, WARMUP_SECONDS, { latencies: [], failed: 0, seconds: 0 })
      for (let round = 0; round < ROUNDS; round++) for (const target of targets) await load(target, scenario, SECONDS, samples.get(target.name)!)
      const rps = (taken: Samples) => taken.latencies.length / taken.seconds
      const direct = rps(samples.get('direct')!)
      for (const target of targets) {
        const taken = samples.get(target.name)!
        const sorted = taken.latencies.sort((a, b) => a - b)
        rows.push([
          scenario.name,
          String(scenario.perInputMs),
          String(scenario.clients),
          target.name,
          rps(taken).toFixed(1),
          (rps(taken) * scenario.batch).toFixed(0),
          (rps(taken) / direct).toFixed(3),
          percentile(sorted, 50).toFixed(1),
          percentile(sorted, 99).toFixed(1),
          String(taken.failed),
        ])
      }
      if (scenario.budget) {
        const ratio = rps(samples.get('gateway')!) / direct
        verdicts.push(
          `${ratio >= scenario.budget ? 'PASS' : 'MISS'} ${scenario.name}, ${scenario.clients} clients: the gateway keeps ${(ratio * 100).toFixed(1)} % of direct throughput (budget ≥ ${scenario.budget * 100} %; ` +
            `a bare Bun proxy keeps ${((rps(samples.get('bun proxy')!) / direct) * 100).toFixed(1)} %)`,
        )
      }
    }
    printTable(header, rows)
    console.log(`\n${verdicts.join('\n')}\n`)
  } finally {
    await processes.stopAll()
    await baseline?.stopAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
