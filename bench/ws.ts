// Chat over the WebSocket (/v1/chat/ws) against the same chat over SSE (/v1/chat/completions),
// through one gateway process on SQLite, on the fake Ollama: S1 (LLM-like, 20 chunks 10 ms apart)
// and S2 (CPU-bound, 60 chunks, no delay), at 1 client and at 64 / 16. Over SSE each request is
// an HTTP request (kept-alive connections); over the socket each client keeps one socket open
// and sends its requests on it one after another. TTFT is the time from sending a request to its
// first chunk (the first SSE bytes; the first `chunk` message). Prints requests/s and TTFT for
// each, and the socket's throughput as a ratio of SSE's. BENCH_SECONDS, BENCH_ROUNDS, BENCH_ONLY
// as in bench/gateway.ts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from '../test/support/process'
import { benchProcesses, load, noSamples, printTable, seedApiKey, SECRET, setScenario, summary, type Samples, type Scenario } from './support/streaming-load'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP_SECONDS = 1

const LLM = { name: 'S1 LLM-like (20 chunks, 10 ms apart)', chunks: 20, chunkDelayMs: 10 }
const CPU = { name: 'S2 CPU-bound (60 chunks, no delay)', chunks: 60, chunkDelayMs: 0 }
const scenarios: Scenario[] = [
  { ...LLM, clients: 1 },
  { ...CPU, clients: 1 },
  { ...LLM, clients: 64 },
  { ...CPU, clients: 16 },
].filter((scenario) => scenario.name.includes(process.env.BENCH_ONLY ?? ''))

const root = join(import.meta.dir, '..')
const processes = benchProcesses(root)
const request = { model: 'llama3.2', messages: [{ role: 'user', content: 'Tell me a story.' }] }

/** One socket per client, each sending one chat after another on it until the time is up. */
async function loadSocket(url: string, apiKey: string, scenario: Scenario, seconds: number, into: Samples) {
  const spreadMs = scenario.chunks * scenario.chunkDelayMs
  const started = performance.now()
  const deadline = started + seconds * 1000
  await Promise.all(
    Array.from({ length: scenario.clients }, async (_, client) => {
      await Bun.sleep((spreadMs * client) / scenario.clients)
      const socket = new WebSocket(url, ['ai-studio', `bearer.${apiKey}`])
      await new Promise((resolve, reject) => {
        socket.onopen = resolve
        socket.onerror = reject
      })
      let waiting: ((message: { type: string }) => void) | undefined
      // Chunks are told by their first bytes, as an SSE client tells events by `data:`: parsing
      // each one here would bill the socket for the load generator's work.
      const CHUNK = { type: 'chunk' }
      socket.onmessage = (event) => {
        const text = String(event.data)
        waiting?.(text.startsWith('{"type":"chunk"') ? CHUNK : JSON.parse(text))
      }
      for (let n = 0; performance.now() < deadline; n++) {
        const sent = performance.now()
        let first = 0
        const outcome = await new Promise<string>((resolve) => {
          waiting = (message) => {
            if (message.type === 'chunk') first ||= performance.now()
            else resolve(message.type)
          }
          socket.send(JSON.stringify({ type: 'chat', id: n, request }))
        })
        if (outcome !== 'done') {
          if (into.failed++ === 0) console.error(`websocket: ${outcome}`)
          continue
        }
        into.ttft.push(first - sent)
        into.total.push(performance.now() - sent)
      }
      socket.close()
    }),
  )
  into.seconds += (performance.now() - started) / 1000
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ai-studio-bench-ws-'))
  const [fakePort, gatewayPort] = [await freePort(), await freePort()]
  const fakeUrl = `http://127.0.0.1:${fakePort}`
  try {
    processes.start(['bun', 'test/support/fake-ollama.ts', '--port', String(fakePort)])
    await waitFor(`${fakeUrl}/api/version`)
    const databaseUrl = `sqlite://${join(dir, 'bench.db')}`
    const apiKey = await seedApiKey(databaseUrl)
    await processes.serve(gatewayPort, {
      DATABASE_URL: databaseUrl,
      SECRET_KEY: SECRET,
      OLLAMA_BASE_URL: fakeUrl,
      RATE_LIMIT_CHAT: '0',
      MAX_CONCURRENT_REQUESTS: '1000',
    })
    const sse = { name: 'SSE', urls: [`http://127.0.0.1:${gatewayPort}/v1/chat/completions`], headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` } }
    const socketUrl = `ws://127.0.0.1:${gatewayPort}/v1/chat/ws`
    const run = (transport: string, scenario: Scenario, seconds: number, into: Samples) =>
      transport === 'SSE' ? load(sse, scenario, seconds, into) : loadSocket(socketUrl, apiKey, scenario, seconds, into)

    console.log(`\nWebSocket against SSE — Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs; ${ROUNDS} interleaved runs of ${SECONDS} s per transport after ${WARMUP_SECONDS} s warm-up\n`)
    const rows: string[][] = []
    const verdicts: string[] = []
    for (const scenario of scenarios) {
      await setScenario(fakeUrl, scenario)
      const samples = { SSE: noSamples(), WebSocket: noSamples() }
      for (const transport of ['SSE', 'WebSocket'] as const) await run(transport, scenario, WARMUP_SECONDS, noSamples())
      for (let round = 0; round < ROUNDS; round++)
        for (const transport of (round % 2 ? ['WebSocket', 'SSE'] : ['SSE', 'WebSocket']) as ('SSE' | 'WebSocket')[])
          await run(transport, scenario, SECONDS, samples[transport])
      const results = { SSE: summary(samples.SSE), WebSocket: summary(samples.WebSocket) }
      for (const transport of ['SSE', 'WebSocket'] as const) {
        const r = results[transport]
        rows.push([scenario.name, String(scenario.clients), transport, r.rps.toFixed(1), (r.rps / results.SSE.rps).toFixed(3), r.ttftP50.toFixed(2), r.ttftP99.toFixed(2), r.totalP50.toFixed(2), String(r.failed)])
      }
      verdicts.push(
        `${scenario.name}, ${scenario.clients} clients: the socket serves ${(results.WebSocket.rps / results.SSE.rps).toFixed(2)} × SSE's requests/s; TTFT p50 ${results.WebSocket.ttftP50.toFixed(2)} ms against ${results.SSE.ttftP50.toFixed(2)} ms`,
      )
    }
    printTable(['scenario', 'clients', 'transport', 'req/s', '× SSE', 'TTFT p50 ms', 'TTFT p99 ms', 'total p50 ms', 'failed'], rows)
    console.log(`\n${verdicts.join('\n')}\n`)
  } finally {
    await processes.stopAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
