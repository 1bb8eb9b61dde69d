// The three client APIs streaming the same reply through one gateway (issue 17): OpenAI's chat
// completions, Anthropic's Messages (/v1/messages) and OpenAI's Responses (/v1/responses), on the
// fake Ollama: S1 (LLM-like, 20 chunks 10 ms apart, 64 clients) and S2 (CPU-bound, 60 chunks, no
// delay, 16 clients). Each API's throughput as a ratio of chat completions' in the same run
// (budget ≥ 0.95), and TTFT (the first bytes). BENCH_SECONDS, BENCH_ROUNDS, BENCH_ONLY as in
// bench/gateway.ts. Run alone: `bun bench/apis.ts`.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from '../test/support/process'
import { benchProcesses, load, noSamples, printTable, seedApiKey, SECRET, setScenario, summary, type Scenario, type Target } from './support/streaming-load'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP_SECONDS = 1

const scenarios: Scenario[] = [
  { name: 'S1 LLM-like (20 chunks, 10 ms apart)', chunks: 20, chunkDelayMs: 10, clients: 64 },
  { name: 'S2 CPU-bound (60 chunks, no delay)', chunks: 60, chunkDelayMs: 0, clients: 16 },
].filter((scenario) => scenario.name.includes(process.env.BENCH_ONLY ?? ''))

const question = 'Tell me a story.'
const processes = benchProcesses(join(import.meta.dir, '..'))

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ai-studio-bench-apis-'))
  const [fakePort, gatewayPort] = [await freePort(), await freePort()]
  const fakeUrl = `http://127.0.0.1:${fakePort}`
  try {
    processes.start(['bun', 'test/support/fake-ollama.ts', '--port', String(fakePort)])
    await waitFor(`${fakeUrl}/api/version`)
    const databaseUrl = `sqlite://${join(dir, 'bench.db')}`
    const apiKey = await seedApiKey(databaseUrl)
    await processes.serve(gatewayPort, { DATABASE_URL: databaseUrl, SECRET_KEY: SECRET, OLLAMA_BASE_URL: fakeUrl, RATE_LIMIT_CHAT: '0', MAX_CONCURRENT_REQUESTS: '1000' })
    const base = `http://127.0.0.1:${gatewayPort}/v1`
    const json = { 'content-type': 'application/json' }
    const targets: Target[] = [
      { name: 'chat completions', urls: [`${base}/chat/completions`], headers: { ...json, authorization: `Bearer ${apiKey}` } },
      {
        name: 'Anthropic Messages',
        urls: [`${base}/messages`],
        headers: { ...json, 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: 'llama3.2', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: question }] }),
        ends: 'message_stop',
      },
      {
        name: 'Responses',
        urls: [`${base}/responses`],
        headers: { ...json, authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ model: 'llama3.2', stream: true, store: false, input: question }),
        ends: 'response.completed',
      },
    ]

    console.log(`\nThree client APIs, one reply — Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs; ${ROUNDS} interleaved runs of ${SECONDS} s per API after ${WARMUP_SECONDS} s warm-up\n`)
    const rows: string[][] = []
    const verdicts: string[] = []
    for (const scenario of scenarios) {
      await setScenario(fakeUrl, scenario)
      const samples = targets.map(() => noSamples())
      for (const target of targets) await load(target, scenario, WARMUP_SECONDS, noSamples())
      for (let round = 0; round < ROUNDS; round++)
        for (const i of round % 2 ? [2, 1, 0] : [0, 1, 2]) await load(targets[i]!, scenario, SECONDS, samples[i]!)
      const results = samples.map(summary)
      targets.forEach((target, i) => {
        const r = results[i]!
        rows.push([scenario.name, String(scenario.clients), target.name, r.rps.toFixed(1), (r.rps / results[0]!.rps).toFixed(3), r.ttftP50.toFixed(2), r.ttftP99.toFixed(2), String(r.failed)])
      })
      verdicts.push(
        `${scenario.name}, ${scenario.clients} clients: Messages ${(results[1]!.rps / results[0]!.rps).toFixed(2)} ×, Responses ${(results[2]!.rps / results[0]!.rps).toFixed(2)} × chat completions' requests/s (budget ≥ 0.95)`,
      )
    }
    printTable(['scenario', 'clients', 'API', 'req/s', '× chat', 'TTFT p50 ms', 'TTFT p99 ms', 'failed'], rows)
    console.log(`\n${verdicts.join('\n')}\n`)
  } finally {
    await processes.stopAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
