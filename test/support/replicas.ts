// Real replicas for tests: N `bun src/index.ts serve` processes on ports of their own, sharing
// what a deployment's replicas share: one PostgreSQL schema (made for them, dropped by `stop()`),
// one Redis prefix (deleted after the run by ./preload.ts), one SECRET_KEY and one fake Ollama.
// Everything else (in-flight requests, the log writer's queue, whatever a replica still keeps in
// memory) is each process's own, which is what tests of several replicas are about.
//
// The replicas start at once on the empty schema, so every start also exercises the migrations'
// advisory lock. Readiness waits are generous: a 2-core machine running other suites can take
// seconds to start a Bun process.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { startRuntime, type Runtime } from '../../src/runtime'
import { TEST_SECRET } from './app'
import { adminSql, postgresReachable, postgresTestUrl, schemaPrefix } from './database'
import { startFakeOllama, type FakeOllama, type Knobs } from './fake-ollama'
import { freePort, run, waitFor } from './process'
import { redisReachable, redisTestUrl, testPrefix } from './redis'

const entry = join(import.meta.dir, '..', '..', 'src', 'index.ts')
const READY_MS = 60_000
const STOP_MS = 15_000

/**
 * Whether both PostgreSQL and Redis answer, for the files that start replicas. Under CI=true
 * either one unreachable throws (the run fails); elsewhere the file is skipped out loud.
 */
export const replicasReachable = async (what: string) => (await postgresReachable(what)) && (await redisReachable(what))

export type CallInit = RequestInit & { json?: unknown; token?: string }

export type Replica = {
  index: number
  port: number
  url: string
  /** `fetch` on this replica: `json` is sent as the body, `token` as the bearer. */
  call(path: string, init?: CallInit): Promise<Response>
  stdout(): string
  stderr(): string
  /** Sends SIGTERM and waits until the replica says it is draining. */
  terminate(): Promise<void>
  /** SIGKILL: gone at once, nothing drained or flushed. */
  kill(): void
  /** Its exit code, once it has exited. */
  exited: Promise<number>
}

export type Replicas = {
  replicas: Replica[]
  databaseUrl: string
  redisPrefix: string
  ollama: FakeOllama
  /**
   * A runtime of the test's own on the shared database (without Redis): to seed users
   * (./users.ts) and to read the request log as stored (./log.ts). Made on first use.
   */
  store(): Promise<Runtime>
  /**
   * Starts replica `index` anew on its port, once the old process has exited (after `terminate()`
   * or `kill()`), as a rolling restart replaces a replica; the new one takes its place in `replicas`.
   */
  restart(index: number): Promise<Replica>
  /**
   * Runs an `ai-studio` command (`unblock --address …`) to completion, with the replicas' shared
   * settings, the way an operator runs one beside a deployment.
   */
  command(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>
  /** Kills what still runs, closes the store, stops the fake Ollama, drops the schema. */
  stop(): Promise<void>
}

let made = 0

const until = async (condition: () => boolean, what: string, timeoutMs: number) => {
  for (const deadline = Date.now() + timeoutMs; !condition(); await Bun.sleep(20))
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
}

async function collect(stream: ReadableStream<Uint8Array>, into: { text: string }) {
  const decoder = new TextDecoder()
  for await (const chunk of stream) into.text += decoder.decode(chunk, { stream: true })
}

/** Starts one `serve` process and waits until it answers its health check (or dies first). */
async function startReplica(index: number, env: Record<string, string>, cwd: string, port?: number): Promise<Replica> {
  port ??= await freePort()
  const url = `http://127.0.0.1:${port}`
  const proc = Bun.spawn([process.execPath, entry, 'serve'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const out = { text: '' }
  const err = { text: '' }
  void collect(proc.stdout, out)
  void collect(proc.stderr, err)
  const died = proc.exited.then((code) => {
    throw new Error(`replica ${index} exited with ${code} before it was ready:\n${err.text || out.text}`)
  })
  try {
    await Promise.race([waitFor(`${url}/api/auth/health/`, READY_MS), died])
  } catch (error) {
    proc.kill('SIGKILL')
    throw error
  }
  died.catch(() => {}) // it may exit later, on purpose
  return {
    index,
    port,
    url,
    call(path, init = {}) {
      const headers = new Headers(init.headers)
      if (init.token) headers.set('authorization', `Bearer ${init.token}`)
      if (init.json !== undefined) headers.set('content-type', 'application/json')
      return fetch(`${url}${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body })
    },
    stdout: () => out.text,
    stderr: () => err.text,
    async terminate() {
      proc.kill('SIGTERM')
      await until(() => out.text.includes('SIGTERM: '), `replica ${index} announcing its shutdown`, STOP_MS)
    },
    kill: () => proc.kill('SIGKILL'),
    exited: proc.exited,
  }
}

/**
 * Starts `count` replicas on a new PostgreSQL schema, a new Redis prefix and a new fake Ollama
 * (started with `ollama` knobs). `env` is given to every replica, over the shared settings.
 */
export async function startReplicas(count: number, env: Record<string, string> = {}, ollama: Partial<Knobs> = {}): Promise<Replicas> {
  const schema = `${schemaPrefix}replicas_${++made}`
  await adminSql().unsafe(`CREATE SCHEMA ${schema}`)
  const database = new URL(postgresTestUrl)
  database.searchParams.set('schema', schema)
  const databaseUrl = database.toString()
  const redisPrefix = testPrefix()
  const fake = await startFakeOllama(ollama)
  // A folder of their own: a replica reads `.env` from where it runs, and the repository's must not count.
  const cwd = mkdtempSync(join(tmpdir(), 'studio-replicas-'))
  const shared = {
    DATABASE_URL: databaseUrl,
    // Several replicas per test, and other suites on the same server: a small pool each.
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: redisTestUrl,
    REDIS_PREFIX: redisPrefix,
    SECRET_KEY: TEST_SECRET,
    OLLAMA_BASE_URL: fake.url,
    ...env,
  }
  const started = await Promise.allSettled(Array.from({ length: count }, (_, index) => startReplica(index, shared, cwd)))
  const replicas = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  let store: Promise<Runtime> | undefined

  const stop = async () => {
    // SIGKILL: what a test left running is not under test, and its drain would only slow the suite.
    for (const replica of replicas) replica.kill()
    await Promise.all(replicas.map((replica) => replica.exited))
    await (await store)?.close()
    fake.stop()
    rmSync(cwd, { recursive: true, force: true })
    await adminSql().unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  }
  const failed = started.find((result) => result.status === 'rejected')
  if (failed) {
    await stop()
    throw failed.reason
  }
  return {
    replicas,
    databaseUrl,
    redisPrefix,
    ollama: fake,
    store: () => (store ??= startRuntime(loadConfig({ DATABASE_URL: databaseUrl, SECRET_KEY: TEST_SECRET, OLLAMA_BASE_URL: fake.url }))),
    async restart(index) {
      const old = replicas[index]!
      await old.exited
      return (replicas[index] = await startReplica(index, shared, cwd, old.port))
    },
    command: (...args) => run([process.execPath, entry, ...args], { cwd, env: shared }),
    stop,
  }
}
