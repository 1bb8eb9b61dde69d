// How much each kind of request makes the gateway allocate on its JavaScript heap, by JSC's own
// count: the gateway (`serve` on SQLite, one fake Ollama) runs with `BUN_JSC_logGC=true`, which
// prints, whenever a collection starts, the bytes allocated since the last one ("normal" cells,
// and "oversized" ones: large typed arrays and the like). Each kind of request is sent N times
// (8 at a time, 64 for replies paced as S1's, after 300 to warm up) and the bytes of the
// collections that start meanwhile are charged to it: a collection starts a little after the
// bytes that caused it, and a phase sees only a few, so each figure is an estimate (runs differ
// by tens of per cent), good for orders of magnitude. Allocation sets how often the collector runs, and in a process with the
// gateway's heap each collection costs milliseconds (bench/README.md, "Overhead").
// `bun bench/allocations.ts` (N=3000 requests of each kind by default).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from '../test/support/process'
import { printTable, seedApiKey, setScenario, SECRET } from './support/streaming-load'

const N = Number(process.env.N ?? 3000)
const MODEL = 'llama3.2'
const dir = mkdtempSync(join(tmpdir(), 'ai-studio-bench-allocations-'))
const [fakePort, gatewayPort] = [await freePort(), await freePort()]
const fakeUrl = `http://127.0.0.1:${fakePort}`
const gatewayUrl = `http://127.0.0.1:${gatewayPort}`
const root = join(import.meta.dir, '..')
const fake = Bun.spawn(['bun', 'test/support/fake-ollama.ts', '--port', String(fakePort)], { cwd: root, stdout: 'ignore', stderr: 'inherit' })
let gateway: Bun.Subprocess<'ignore', 'ignore', 'pipe'> | undefined

type Count = { normal: number; oversized: number; collections: number; largest: Map<number, number> }
const counts = new Map<string, Count>()
let phase = 'start-up'

/** Charges each collection's "bytes allocated" to the phase running when its log line arrives. */
async function readGcLog(stderr: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of stderr) {
    buffer += decoder.decode(chunk, { stream: true })
    let end: number
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end)
      buffer = buffer.slice(end + 1)
      const match = /normal bytes: (\d+) oversized bytes: (\d+) last oversized: (\d+)/.exec(line)
      if (!match) continue
      const count = counts.get(phase) ?? { normal: 0, oversized: 0, collections: 0, largest: new Map() }
      counts.set(phase, count)
      count.collections++
      count.normal += Number(match[1])
      count.oversized += Number(match[2])
      const last = Number(match[3])
      if (last) count.largest.set(last, (count.largest.get(last) ?? 0) + 1)
    }
  }
}

try {
  await waitFor(`${fakeUrl}/api/version`)
  const databaseUrl = `sqlite://${join(dir, 'bench.db')}`
  const apiKey = await seedApiKey(databaseUrl)
  gateway = Bun.spawn(['bun', 'src/index.ts', 'serve'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, SECRET_KEY: SECRET, OLLAMA_BASE_URL: fakeUrl, HOST: '127.0.0.1', PORT: String(gatewayPort), RATE_LIMIT_CHAT: '1000000', MAX_CONCURRENT_REQUESTS: '1000', BUN_JSC_logGC: 'true' },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  void readGcLog(gateway.stderr)
  await waitFor(`${gatewayUrl}/api/health/`)
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }
  const chat = (stream: boolean) => JSON.stringify({ model: MODEL, stream, messages: [{ role: 'user', content: 'hi' }] })
  const post = (stream: boolean) => () => fetch(`${gatewayUrl}/v1/chat/completions`, { method: 'POST', headers, body: chat(stream) }).then((r) => r.text())
  // The fake's replies: 60 messages as fast as it can (S2's shape), or 20, 10 ms apart (S1's).
  const fast = { chunks: 60, chunkDelayMs: 0 }
  const paced = { chunks: 20, chunkDelayMs: 10 }
  const kinds: [string, () => Promise<unknown>, typeof fast][] = [
    ['GET /api/health/ (no auth)', () => fetch(`${gatewayUrl}/api/health/`).then((r) => r.text()), fast],
    ['GET /api/auth/me/ (API key)', () => fetch(`${gatewayUrl}/api/auth/me/`, { headers }).then((r) => r.text()), fast],
    ['POST /v1/chat/completions, streamed (60 chunks at once)', post(true), fast],
    ['POST /v1/chat/completions, not streamed (60 chunks at once)', post(false), fast],
    ['POST /v1/chat/completions, streamed (20 chunks 10 ms apart)', post(true), paced],
  ]
  const sent = new Map<string, number>()
  for (const [name, send, reply] of kinds) {
    await setScenario(fakeUrl, { name, clients: 1, ...reply })
    phase = `${name} (warm-up)`
    // Paced replies take 200 ms: 64 at a time, as S1 sends them.
    const clients = reply.chunkDelayMs ? 64 : 8
    for (let i = 0; i < Math.ceil(300 / clients); i++) await Promise.all(Array.from({ length: clients }, send))
    phase = name
    const each = Math.ceil(N / clients)
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let i = 0; i < each; i++) await send()
      }),
    )
    sent.set(name, each * clients)
  }
  phase = 'after'
  await Bun.sleep(500)
  if (!counts.size) throw new Error("no collection was reported: Bun's BUN_JSC_logGC output has changed, or it is ignored")
  console.log(`\nJS heap allocation per request — Bun ${Bun.version}; about ${N} requests of each kind, 8 at a time (64 for paced replies); JSC's counts at each collection (BUN_JSC_logGC)\n`)
  printTable(
    ['request', 'KB per request, cells', 'KB per request, oversized', 'collections', 'last oversized allocation before a collection (bytes × collections)'],
    kinds.map(([name]) => {
      const count = counts.get(name) ?? { normal: 0, oversized: 0, collections: 0, largest: new Map() }
      const requests = sent.get(name)!
      return [name, (count.normal / requests / 1024).toFixed(1), (count.oversized / requests / 1024).toFixed(1), String(count.collections), [...count.largest].map(([size, times]) => `${size} × ${times}`).join(', ') || '—']
    }),
  )
} finally {
  gateway?.kill()
  fake.kill()
  rmSync(dir, { recursive: true, force: true })
}
