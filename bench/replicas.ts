// Two replicas on PostgreSQL + Redis against one replica on SQLite, with the load generator of
// bench/gateway.ts (./support/streaming-load.ts) and the same fake Ollama reached directly as the
// baseline. The load alternates between the two replicas request by request (each client in
// turn), as a round-robin proxy would, without a proxy's own cost in the figures. A third target,
// the same two replicas' setup without REDIS_URL, isolates what Redis adds to a request.
// Every gateway runs in its own process with the chat rate limit on (set far above the load, so
// that every request pays its check) and the concurrency cap on: with REDIS_URL both are the
// shared, Redis-backed ones wherever they have moved there.
//
// PostgreSQL: BENCH_POSTGRES_URL (default this machine's database `test`), in a schema of its own
// dropped afterwards; Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379), under a prefix of
// its own deleted afterwards. BENCH_SECONDS, BENCH_ROUNDS and BENCH_ONLY as in bench/gateway.ts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from '../test/support/process'
import { benchProcesses, benchStores, load, loadedGatewayEnv, noSamples, printTable, seedApiKey, setScenario, summary, type Result, type Samples, type Scenario, type Target } from './support/streaming-load'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP_SECONDS = 1
/** The budget for the Redis limiter, on a request's TTFB p50. */
const REDIS_BUDGET_MS = 0.3

const LLM = { name: 'S1 LLM-like (20 chunks, 10 ms apart)', chunks: 20, chunkDelayMs: 10 }
const CPU = { name: 'S2 CPU-bound (60 chunks, no delay)', chunks: 60, chunkDelayMs: 0 }
const allScenarios: Scenario[] = [
  { ...LLM, clients: 1 },
  { ...CPU, clients: 1 },
  { ...LLM, clients: 64 },
  { ...CPU, clients: 16 },
]
const scenarios = allScenarios.filter((scenario) => scenario.name.includes(process.env.BENCH_ONLY ?? ''))

const root = join(import.meta.dir, '..')
const stores = benchStores('replicas')
const { databaseUrl, redisUrl, redisPrefix } = stores
const processes = benchProcesses(root)

const SQLITE = 'one replica, SQLite'
const PAIR = 'two replicas, PostgreSQL + Redis'
const PAIR_WITHOUT_REDIS = 'two replicas, PostgreSQL, no Redis'

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ai-studio-bench-replicas-'))
  const [fakePort, sqlitePort, ...pairPorts] = (await Promise.all(Array.from({ length: 6 }, () => freePort()))) as number[]
  const fakeUrl = `http://127.0.0.1:${fakePort}`
  try {
    processes.start(['bun', 'test/support/fake-ollama.ts', '--port', String(fakePort)])
    await waitFor(`${fakeUrl}/api/version`)
    const common = loadedGatewayEnv(fakeUrl)

    const sqliteUrl = `sqlite://${join(dir, 'bench.db')}`
    const sqliteKey = await seedApiKey(sqliteUrl)
    await processes.serve(sqlitePort!, { ...common, DATABASE_URL: sqliteUrl })

    await stores.fresh()
    const pairKey = await seedApiKey(databaseUrl)
    // Four servers on one PostgreSQL, which other work on this machine uses too: 5 connections each.
    const shared = { ...common, DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: '5' }
    const withRedis = { ...shared, REDIS_URL: redisUrl, REDIS_PREFIX: redisPrefix }
    await Promise.all([
      processes.serve(pairPorts[0]!, withRedis),
      processes.serve(pairPorts[1]!, withRedis),
      processes.serve(pairPorts[2]!, shared),
      processes.serve(pairPorts[3]!, shared),
    ])

    const chat = (port: number) => `http://127.0.0.1:${port}/v1/chat/completions`
    const json = { 'content-type': 'application/json' }
    const targets: Target[] = [
      { name: 'direct', urls: [`${fakeUrl}/v1/chat/completions`], headers: json },
      { name: SQLITE, urls: [chat(sqlitePort!)], headers: { ...json, authorization: `Bearer ${sqliteKey}` } },
      { name: PAIR, urls: [chat(pairPorts[0]!), chat(pairPorts[1]!)], headers: { ...json, authorization: `Bearer ${pairKey}` } },
      { name: PAIR_WITHOUT_REDIS, urls: [chat(pairPorts[2]!), chat(pairPorts[3]!)], headers: { ...json, authorization: `Bearer ${pairKey}` } },
    ]

    console.log(
      `\nReplicas benchmark — Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs; per scenario and target ${ROUNDS} interleaved runs of ${SECONDS} s after ${WARMUP_SECONDS} s warm-up\n`,
    )
    const header = ['scenario', 'clients', 'target', 'req/s', '× direct', '× SQLite', 'TTFB p50 ms', 'TTFB p99 ms', 'added p50 ms', 'added p99 ms', 'failed']
    const rows: string[][] = []
    const verdicts: string[] = []
    for (const scenario of scenarios) {
      await setScenario(fakeUrl, scenario)
      const samples = new Map<string, Samples>(targets.map((target) => [target.name, noSamples()]))
      for (const target of targets) await load(target, scenario, WARMUP_SECONDS, noSamples())
      // Each round starts with the next target: whoever runs just after another's burst of log
      // writes (or whatever else the machine is doing) is not always the same target.
      for (let round = 0; round < ROUNDS; round++)
        for (const target of [...targets.slice(round % targets.length), ...targets.slice(0, round % targets.length)])
          await load(target, scenario, SECONDS, samples.get(target.name)!)
      const results = new Map<string, Result>([...samples].map(([name, taken]) => [name, summary(taken)]))
      const direct = results.get('direct')!
      const sqlite = results.get(SQLITE)!
      for (const target of targets) {
        const r = results.get(target.name)!
        const added = (a: number, b: number) => (target.name === 'direct' ? '' : (a - b).toFixed(2))
        rows.push([
          scenario.name,
          String(scenario.clients),
          target.name,
          r.rps.toFixed(1),
          (r.rps / direct.rps).toFixed(3),
          target.name === 'direct' ? '' : (r.rps / sqlite.rps).toFixed(3),
          r.ttftP50.toFixed(2),
          r.ttftP99.toFixed(2),
          added(r.ttftP50, direct.ttftP50),
          added(r.ttftP99, direct.ttftP99),
          String(r.failed),
        ])
      }
      const pair = results.get(PAIR)!
      const withoutRedis = results.get(PAIR_WITHOUT_REDIS)!
      if (scenario.clients === 1) {
        const redis = pair.ttftP50 - withoutRedis.ttftP50
        const measured = `Redis adds ${redis.toFixed(2)} ms to TTFB p50 (two replicas with REDIS_URL against the same two without, ${pair.requests} and ${withoutRedis.requests} requests)`
        // Only the CPU-bound stream gives thousands of requests at one client, enough to tell a
        // tenth of a millisecond apart; the LLM-like one gives a few dozen.
        verdicts.push(
          scenario.chunkDelayMs === 0
            ? `${redis <= REDIS_BUDGET_MS ? 'PASS' : 'MISS'} ${scenario.name}, 1 client: ${measured}; budget ≤ ${REDIS_BUDGET_MS} ms`
            : `${scenario.name}, 1 client: ${measured}; too few requests to judge the budget`,
        )
      } else
        verdicts.push(
          `${scenario.name}, ${scenario.clients} clients: two replicas on PostgreSQL + Redis serve ${(pair.rps / sqlite.rps).toFixed(2)} × ` +
            `the requests/s of one replica on SQLite (${pair.rps.toFixed(0)} against ${sqlite.rps.toFixed(0)})`,
        )
    }
    printTable(header, rows)
    console.log(`\n${verdicts.join('\n')}\n`)
  } finally {
    await processes.stopAll()
    rmSync(dir, { recursive: true, force: true })
    await stores.remove()
  }
}

await main()
