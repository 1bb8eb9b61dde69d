// The streaming chat load that the gateway benchmarks share (bench/gateway.ts, bench/replicas.ts):
// the scenarios' shape, closed-loop clients that each send one streaming request after another,
// the summary of what they measured, the markdown table it is printed as, and the processes a
// bench starts (a fake Ollama, gateways), each in its own process so that this one only
// generates load and measures.
import { SQL } from 'bun'
import { readFileSync } from 'node:fs'
import { loadConfig } from '../../src/config'
import { startRuntime } from '../../src/runtime'
import { waitFor } from '../../test/support/process'
import { deleteKeysUnder } from '../../test/support/redis'
import { seedUser } from '../../test/support/users'

export const SECRET = 'bench-secret-key-that-is-long-enough-0123456789'

/**
 * `lockstep`: every client sends its first request at the same moment. Closed-loop clients whose
 * replies all take the same time then stay in lockstep, so each round of requests reaches the
 * server as one burst, and the TTFB p50 measures how long the burst takes to get through (half
 * of it queues behind the other half) more than what one request pays. By default the clients'
 * first requests are spread over one reply's duration, as independent clients arrive.
 */
export type Scenario = {
  name: string
  chunks: number
  chunkDelayMs: number
  clients: number
  lockstep?: boolean
  /** The fake sends each reply in one network write instead of one per message. */
  mergeWrites?: boolean
  /** Each client waits this long after each reply before its next request (the process goes idle between them). */
  pauseMs?: number
  budget?: { throughput: number; addedTtftP50Ms?: number }
}

/** Where a target is reached: each client sends its requests to `urls` in turn (round robin). */
/** Where the load goes: a streamed chat completion unless `body` says otherwise, complete once its last bytes hold `ends` (default `[DONE]`). */
export type Target = { name: string; urls: string[]; headers: Record<string, string>; body?: string; ends?: string }
export type Samples = { ttft: number[]; total: number[]; failed: number; seconds: number }
export type Result = { rps: number; requests: number; ttftP50: number; ttftP99: number; totalP50: number; failed: number }

export const noSamples = (): Samples => ({ ttft: [], total: [], failed: 0, seconds: 0 })

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN

/** `clients` loops, each sending one streaming request after another until the time is up. */
export async function load(target: Target, scenario: Scenario, seconds: number, into: Samples) {
  const { clients } = scenario
  const body = target.body ?? JSON.stringify({ model: 'llama3.2', stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] })
  const ends = target.ends ?? '[DONE]'
  const spreadMs = scenario.lockstep ? 0 : scenario.chunks * scenario.chunkDelayMs
  const started = performance.now()
  const deadline = started + seconds * 1000
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      await Bun.sleep((spreadMs * client) / clients)
      for (let n = client; performance.now() < deadline; n++) {
        const url = target.urls[n % target.urls.length]!
        const sent = performance.now()
        try {
          const res = await fetch(url, { method: 'POST', headers: target.headers, body })
          const reader = res.body!.getReader()
          let first = 0
          let tail = ''
          let ended = false
          for (;;) {
            const { done, value } = await reader.read()
            if (done) break
            first ||= performance.now()
            // The end marker may sit mid-event (a Responses stream's last event is large) or span two reads.
            const seen = tail + Buffer.from(value).toString()
            ended ||= seen.includes(ends)
            tail = seen.slice(-64)
          }
          if (!res.ok || !ended) throw new Error(`${target.name}: ${res.status}, stream ended with ${JSON.stringify(tail)}`)
          into.ttft.push(first - sent)
          into.total.push(performance.now() - sent)
        } catch (error) {
          if (into.failed++ === 0) console.error(String(error))
        }
        if (scenario.pauseMs) await Bun.sleep(scenario.pauseMs)
      }
    }),
  )
  into.seconds += (performance.now() - started) / 1000
}

export function summary({ ttft, total, failed, seconds }: Samples): Result {
  ttft.sort((a, b) => a - b)
  total.sort((a, b) => a - b)
  return { rps: total.length / seconds, requests: total.length, ttftP50: percentile(ttft, 50), ttftP99: percentile(ttft, 99), totalP50: percentile(total, 50), failed }
}

/** Sets the fake Ollama's knobs for a scenario (it runs in its own process: over HTTP). */
export const setScenario = (fakeUrl: string, scenario: Scenario) =>
  fetch(`${fakeUrl}/_fake/knobs`, {
    method: 'POST',
    body: JSON.stringify({ chunks: scenario.chunks, chunkDelayMs: scenario.chunkDelayMs, mergeWrites: !!scenario.mergeWrites }),
  })

/** Prints a markdown table with its columns padded to their widest cell. */
export function printTable(header: string[], rows: string[][]) {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`
  console.log(line(header))
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`)
  for (const row of rows) console.log(line(row))
}

/** The processes a bench starts (from the repository's root), ended together by `stopAll`. */
export function benchProcesses(root: string) {
  const children: Bun.Subprocess[] = []
  const start = (cmd: string[], env: Record<string, string> = {}) => {
    const child = Bun.spawn(cmd, { cwd: root, env: { ...process.env, ...env }, stdout: 'ignore', stderr: 'inherit' })
    children.push(child)
    return child
  }
  return {
    start,
    /** `bun src/index.ts serve` on 127.0.0.1:`port` with `env` (and `bunFlags`, e.g. `--cpu-prof`), once it answers its health check (its process returned). */
    async serve(port: number, env: Record<string, string>, bunFlags: string[] = []): Promise<Bun.Subprocess> {
      const child = start(['bun', ...bunFlags, 'src/index.ts', 'serve'], { PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production', ...env })
      const died = child.exited.then((code) => Promise.reject(new Error(`the gateway on port ${port} exited with ${code} before it answered`)))
      await Promise.race([waitFor(`http://127.0.0.1:${port}/api/auth/health`, 30_000), died])
      died.catch(() => {}) // ended later by stopAll
      return child
    },
    async stopAll() {
      for (const child of children) child.kill()
      await Promise.all(children.map((child) => child.exited))
    },
  }
}

/**
 * The PostgreSQL and Redis of the benches that need them (BENCH_POSTGRES_URL, default this
 * machine's database `test`; BENCH_REDIS_URL), and bench `name`'s own schema and key prefix
 * there, which it makes and removes afterwards: `databaseUrl` is the database in that schema.
 */
export function benchStores(name: string) {
  const postgresUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const schema = `bench_${name}_${process.pid}`
  const database = new URL(postgresUrl)
  database.searchParams.set('schema', schema)
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
  const redisPrefix = `bench:${name}:${process.pid}:`
  const admin = new SQL(postgresUrl)
  const dropSchema = () => admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  return {
    databaseUrl: database.toString(),
    redisUrl,
    redisPrefix,
    /** Drops a schema of that name left by an earlier run. */
    fresh: async () => void (await dropSchema()),
    /** Drops the schema, deletes the keys and ends the connection: the bench's clean-up. */
    async remove() {
      await dropSchema()
      await admin.close()
      await deleteKeysUnder(redisUrl, redisPrefix)
    },
  }
}

/** A gateway's environment under load from the fake at `fakeUrl`, whatever its database. */
export const loadedGatewayEnv = (fakeUrl: string) => ({
  SECRET_KEY: SECRET,
  OLLAMA_BASE_URL: fakeUrl,
  // On, and out of reach: every request pays the check, none is refused.
  RATE_LIMIT_CHAT: '1000000',
  // One user is every client here: the cap stays on (its cost counts) but above any scenario's clients.
  MAX_CONCURRENT_REQUESTS: '1000',
})

/** Migrates the database at `databaseUrl` and adds a user to it: their API key. */
export async function seedApiKey(databaseUrl: string): Promise<string> {
  const rt = await startRuntime(loadConfig({ DATABASE_URL: databaseUrl, SECRET_KEY: SECRET }))
  try {
    return (await seedUser(rt)).apiKey
  } finally {
    await rt.close()
  }
}

/**
 * The CPU time a process has used so far (user + system, all its threads; Linux's /proc), in
 * seconds. Per request it shows what a change costs even on a machine too busy for throughput
 * to tell a few per cent apart: contention stretches wall-clock time, not the CPU time used.
 */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text()
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // utime and stime are fields 14 and 15 of the line (11 and 12 after the command's name), in clock ticks.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/** A process's resident set size now (VmRSS, Linux's /proc), in MiB. */
export const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

/** Clock ticks per second (`getconf CLK_TCK`): 100 on Linux. */
const CLOCK_TICKS = 100
