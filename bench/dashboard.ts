// Dashboard and request-log benchmarks, printed as markdown tables with ratios measured in
// the same run (the machine is shared and noisy):
//   1. GET /api/dashboard/?range=3m, 24h and a 60-day custom range with bounds inside days, at
//      10k, 100k and 1M logged rows (90 days of populate-dashboard-data traffic in a file
//      database): p50/p99, and the 1M/10k ratio; and the same dashboard built straight from the
//      store (no HTTP, no auth): the database's share.
//   2. Gateway throughput with the request log on vs off, over real sockets, on an LLM-like
//      stream (20 chunks 10 ms apart, 64 clients) and on a CPU-bound JSON route (32 clients),
//      and the rows per second the log writer commits meanwhile.
// Run alone: `bun bench/dashboard.ts`; or call `runDashboardBench()` from bench/index.ts.
// On PostgreSQL: BENCH_DATABASE_URL=postgres://…?schema=… naming an empty schema (or database).
import { Elysia } from 'elysia'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app'
import type { Principal } from '../src/auth/principal'
import { loadConfig } from '../src/config'
import { resolveWindow } from '../src/dashboard/range'
import { buildDashboard } from '../src/dashboard/service'
import { populate } from '../src/populate/generator'
import { errors } from '../src/http/errors'
import { requestId } from '../src/http/request-id'
import { keepAnonymousRow } from '../src/ratelimit/anonymous'
import { startRuntime, type Runtime } from '../src/runtime'
import { telemetry } from '../src/telemetry'
import { factsOf, markStreaming, streamEnded } from '../src/telemetry/facts'
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

/** The database benchmarked: BENCH_DATABASE_URL, or an SQLite file in `folder`. */
const databaseUrl = (folder: string) => process.env.BENCH_DATABASE_URL ?? `sqlite://${join(folder, 'studio.db')}`
const onPostgres = () => /^postgres(ql)?:/.test(process.env.BENCH_DATABASE_URL ?? '')

/** p50 and p99 of `runs` sequential calls, after 10 to warm up. */
async function timed(runs: number, call: () => Promise<unknown>) {
  for (let i = 0; i < 10; i++) await call()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    await call()
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) }
}

async function timeDashboard(app: ReturnType<typeof createApp>, token: string, range: string, runs: number) {
  return timed(runs, async () => {
    const res = await app.handle(new Request(`http://localhost/api/dashboard/?range=${range}`, { headers: { authorization: `Bearer ${token}` } }))
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`dashboard answered ${res.status}`)
  })
}

/** The same dashboard built from the store alone: what the database's queries cost. */
async function timeStore(rt: Runtime, admin: Principal, range: string, runs: number) {
  const query = Object.fromEntries(new URLSearchParams(`range=${range}`)) as Parameters<typeof resolveWindow>[0]
  return timed(runs, () => buildDashboard(rt.store.dashboard, admin, resolveWindow(query)))
}

export async function dashboardAtSizes(sizes = [10_000, 100_000, 1_000_000], runs = 200) {
  const folder = mkdtempSync(join(tmpdir(), 'studio-bench-'))
  const rt = await startRuntime(
    loadConfig({ DATABASE_URL: databaseUrl(folder), SECRET_KEY: 'bench-secret-0123456789abcdef0123456789', RATE_LIMIT_DASHBOARD: '0' }),
  )
  try {
    if ((await rt.store.dashboard.logCounts(0)).total) throw new Error('BENCH_DATABASE_URL must name an empty database (or schema)')
    const app = createApp(rt)
    const { accessToken, userId, email } = await seedUser(rt, { role: 'admin' })
    const admin: Principal = { userId, email, role: 'admin' }
    const results: { rows: number; populateS: number; range: string; p50: number; p99: number; storeP50: number; storeP99: number }[] = []
    let rows = 0
    for (const size of sizes) {
      const started = performance.now()
      await populate(rt, [], { days: 90, users: 3, requests: size - rows })
      const populateS = (performance.now() - started) / 1000
      rows = size
      for (const [range, query] of ranges) {
        const store = await timeStore(rt, admin, query, runs)
        const http = await timeDashboard(app, accessToken, query, runs)
        results.push({ rows, populateS, range, ...http, storeP50: store.p50, storeP99: store.p99 })
      }
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
    loadConfig({ DATABASE_URL: databaseUrl(folder), SECRET_KEY: 'bench-secret-0123456789abcdef0123456789', RATE_LIMIT_DASHBOARD: '0' }),
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
  /** Requests in the log's rollups: the rows the writer has committed. */
  const logged = async () => (await rt.store.dashboard.logCounts(0)).total
  try {
    const results: { workload: string; off: number; on: number; writtenPerS: number }[] = []
    for (const workload of workloads) {
      // Alternate off/on rounds so that noise from the shared machine hits both alike.
      const sums = { off: 0, on: 0, written: 0 }
      for (let round = 0; round < rounds; round++)
        for (const { logging, base } of servers) {
          const before = logging ? await logged() : 0
          sums[logging ? 'on' : 'off'] += await throughput(`${base}${workload.path}`, workload.clients, seconds)
          if (logging) sums.written += (await logged()) - before
        }
      results.push({ workload: workload.name, off: sums.off / rounds, on: sums.on / rounds, writtenPerS: sums.written / (rounds * seconds) })
    }
    return results
  } finally {
    for (const { server } of servers) server.stop(true)
    await rt.close()
    rmSync(folder, { recursive: true, force: true })
  }
}

export async function runDashboardBench() {
  console.log('## Dashboard\n')
  const where = onPostgres() ? 'PostgreSQL (BENCH_DATABASE_URL)' : 'a file database'
  console.log(`GET /api/dashboard/ as an admin, 90 days of generated traffic in ${where}, 200 sequential reads each; "store" is the same dashboard built from the store alone.\n`)
  const rows = await dashboardAtSizes()
  console.log('| logged rows | populate | range | p50 ms | p99 ms | store p50 ms | store p99 ms |')
  console.log('| ---: | ---: | --- | ---: | ---: | ---: | ---: |')
  for (const r of rows)
    console.log(`| ${r.rows.toLocaleString('en')} | ${r.populateS.toFixed(1)} s | ${r.range} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.storeP50)} | ${ms(r.storeP99)} |`)
  console.log('\n| range | p50 ratio 1M / 10k | p99 ratio 1M / 10k |')
  console.log('| --- | ---: | ---: |')
  for (const [range] of ranges) {
    const small = rows.find((r) => r.range === range && r.rows === 10_000)!
    const large = rows.find((r) => r.range === range && r.rows === 1_000_000)!
    console.log(`| ${range} | ${(large.p50 / small.p50).toFixed(2)} | ${(large.p99 / small.p99).toFixed(2)} |`)
  }

  console.log('\nGateway throughput with the request log on vs off (same process, real sockets, 3 alternating rounds of 4 s), and the rows the log writer committed per second during the "on" rounds.\n')
  const results = await loggingOverhead()
  console.log('| workload | off req/s | on req/s | on / off | log rows written/s (on) |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const r of results)
    console.log(`| ${r.workload} | ${r.off.toFixed(0)} | ${r.on.toFixed(0)} | ${((r.on / r.off) * 100).toFixed(1)} % | ${r.writtenPerS.toFixed(0)} |`)
}

if (import.meta.main) await runDashboardBench()
