// Dashboard and request-log benchmarks, printed as markdown tables with ratios measured in
// the same run (the machine is shared and noisy):
//   1. GET /api/dashboard/?range=3m, 24h and a 60-day custom range with bounds inside days, at
//      10k, 100k and 1M logged rows (90 days of populate-dashboard-data traffic in a file
//      database): p50/p99, and the 1M/10k ratio.
//   2. Gateway throughput with the request log on vs off, over real sockets, on an LLM-like
//      stream (20 chunks 10 ms apart, 64 clients) and on a CPU-bound JSON route (32 clients).
// Run alone: `bun bench/dashboard.ts`; or call `runDashboardBench()` from bench/index.ts.
import { Elysia } from 'elysia'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { populate } from '../src/populate/generator'
import { errors } from '../src/http/errors'
import { requestId } from '../src/http/request-id'
import { keepAnonymousRow } from '../src/ratelimit/anonymous'
import { startRuntime, type Runtime } from '../src/runtime'
import { telemetry } from '../src/telemetry'
import { factsOf, markStreaming, streamEnded } from '../src/telemetry/facts'
import { logRows } from '../test/support/log'
import { seedUser } from '../test/support/users'

const DAY = 86_400_000
const isoAt = (time: number) => new Date(time).toISOString()
const today = Date.now() - (Date.now() % DAY)
/** Each range's label and query. */
const ranges: [string, string][] = [
  ['3m', '3m'],
  ['24h', '24h'],
  ['custom, 60 days, 05:00 to 07:00', `custom&start=${isoAt(today - 61 * DAY + 5 * 3_600_000)}&end=${isoAt(today - DAY + 7 * 3_600_000)}`],
]

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
const ms = (value: number) => value.toFixed(2)

async function timeDashboard(app: ReturnType<typeof createApp>, token: string, range: string, runs: number) {
  const request = () =>
    app.handle(new Request(`http://localhost/api/dashboard/?range=${range}`, { headers: { authorization: `Bearer ${token}` } }))
  for (let i = 0; i < 10; i++) await (await request()).arrayBuffer()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    const res = await request()
    await res.arrayBuffer()
    times.push(performance.now() - started)
    if (res.status !== 200) throw new Error(`dashboard answered ${res.status}`)
  }
  times.sort((a, b) => a - b)
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) }
}

export async function dashboardAtSizes(sizes = [10_000, 100_000, 1_000_000], runs = 200) {
  const folder = mkdtempSync(join(tmpdir(), 'studio-bench-'))
  const rt = await startRuntime(
    loadConfig({ DATABASE_URL: `sqlite://${join(folder, 'studio.db')}`, SECRET_KEY: 'bench-secret-0123456789abcdef0123456789', RATE_LIMIT_DASHBOARD: '0' }),
  )
  try {
    const app = createApp(rt)
    const { accessToken } = await seedUser(rt, { role: 'admin' })
    const results: { rows: number; populateS: number; range: string; p50: number; p99: number }[] = []
    let rows = 0
    for (const size of sizes) {
      const started = performance.now()
      await populate(rt, [], { days: 90, users: 3, requests: size - rows })
      const populateS = (performance.now() - started) / 1000
      rows = size
      for (const [range, query] of ranges) results.push({ rows, populateS, range, ...(await timeDashboard(app, accessToken, query, runs)) })
    }
    return results
  } finally {
    await rt.close()
    rmSync(folder, { recursive: true, force: true })
  }
}

/** The gateway's own plugins with a chat-like route, with or without the request log. */
function gateway(rt: Runtime, logging: boolean) {
  const app = new Elysia().use(errors(() => []))
  if (logging) app.use(telemetry(rt, (request, facts, address) => keepAnonymousRow(rt, request, facts, address)))
  return app
    .use(requestId)
    .get('/v1/bench/json', ({ request }) => {
      const facts = factsOf(request)
      facts.model = 'bench-model'
      facts.promptTokens = 12
      facts.completionTokens = 34
      return { id: 'chatcmpl-bench', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }] }
    })
    .get('/v1/bench/stream', async function* ({ request, set }) {
      const facts = markStreaming(request)
      facts.model = 'bench-model'
      set.headers['content-type'] = 'text/event-stream'
      try {
        for (let i = 0; i < 20; i++) {
          await Bun.sleep(10)
          facts.completionTokens = i + 1
          yield `{"choices":[{"index":0,"delta":{"content":"token ${i}"}}]}`
        }
        facts.outcome = 'ok'
      } finally {
        streamEnded(request)
      }
    })
}

async function throughput(url: string, clients: number, seconds: number) {
  let done = 0
  const deadline = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const res = await fetch(url)
        await res.arrayBuffer()
        if (res.status === 200) done++
      }
    }),
  )
  return done / seconds
}

export async function loggingOverhead(seconds = 4, rounds = 3) {
  const folder = mkdtempSync(join(tmpdir(), 'studio-bench-'))
  const rt = await startRuntime(
    loadConfig({ DATABASE_URL: `sqlite://${join(folder, 'studio.db')}`, SECRET_KEY: 'bench-secret-0123456789abcdef0123456789', RATE_LIMIT_DASHBOARD: '0' }),
  )
  const servers = [false, true].map((logging) => {
    const app = gateway(rt, logging)
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (request) => app.fetch(request) })
    ;(app as unknown as { server: typeof server }).server = server
    return { logging, base: `http://127.0.0.1:${server.port}`, server }
  })
  const workloads = [
    { name: 'LLM-like stream (20 chunks × 10 ms, 64 clients)', path: '/v1/bench/stream', clients: 64 },
    { name: 'CPU-bound JSON (32 clients)', path: '/v1/bench/json', clients: 32 },
  ]
  try {
    const results: { workload: string; off: number; on: number }[] = []
    for (const workload of workloads) {
      // Alternate off/on rounds so that noise from the shared machine hits both alike.
      const sums = { off: 0, on: 0 }
      for (let round = 0; round < rounds; round++)
        for (const { logging, base } of servers)
          sums[logging ? 'on' : 'off'] += await throughput(`${base}${workload.path}`, workload.clients, seconds)
      results.push({ workload: workload.name, off: sums.off / rounds, on: sums.on / rounds })
    }
    const logged = (await logRows(rt)).length
    return { results, logged }
  } finally {
    for (const { server } of servers) server.stop(true)
    await rt.close()
    rmSync(folder, { recursive: true, force: true })
  }
}

export async function runDashboardBench() {
  console.log('## Dashboard\n')
  console.log('GET /api/dashboard/ as an admin, 90 days of generated traffic in a file database, 200 sequential reads each.\n')
  const rows = await dashboardAtSizes()
  console.log('| logged rows | populate | range | p50 ms | p99 ms |')
  console.log('| ---: | ---: | --- | ---: | ---: |')
  for (const r of rows) console.log(`| ${r.rows.toLocaleString('en')} | ${r.populateS.toFixed(1)} s | ${r.range} | ${ms(r.p50)} | ${ms(r.p99)} |`)
  console.log('\n| range | p50 ratio 1M / 10k | p99 ratio 1M / 10k |')
  console.log('| --- | ---: | ---: |')
  for (const [range] of ranges) {
    const small = rows.find((r) => r.range === range && r.rows === 10_000)!
    const large = rows.find((r) => r.range === range && r.rows === 1_000_000)!
    console.log(`| ${range} | ${(large.p50 / small.p50).toFixed(2)} | ${(large.p99 / small.p99).toFixed(2)} |`)
  }

  console.log('\nGateway throughput with the request log on vs off (same process, real sockets, 3 alternating rounds of 4 s).\n')
  const { results, logged } = await loggingOverhead()
  console.log('| workload | off req/s | on req/s | on / off |')
  console.log('| --- | ---: | ---: | ---: |')
  for (const r of results) console.log(`| ${r.workload} | ${r.off.toFixed(0)} | ${r.on.toFixed(0)} | ${((r.on / r.off) * 100).toFixed(1)} % |`)
  console.log(`\n(${logged.toLocaleString('en')} requests logged while measuring.)`)
}

if (import.meta.main) await runDashboardBench()
