// One replica writing the request log, as a process of its own, for the test of several writers
// at once (test/telemetry-store.test.ts). It opens the store DATABASE_URL names, waits for the
// agreed start time (so that every replica writes at the same moment, whatever its start-up
// took), writes its batches a few at a time over the users and sessions it is given (the same
// hours, models and countries as the other replicas: the same rollup cells), and prints what it
// wrote as JSON. Run: bun test/support/log-replica.ts '<ReplicaPlan as JSON>'
import { loadConfig } from '../../src/config'
import { COMMAND_BUSY_TIMEOUT_MS } from '../../src/db/busy'
import { startRuntime } from '../../src/runtime'
import type { LogRow } from '../../src/telemetry/store'

export type ReplicaPlan = {
  startAt: number
  batches: number
  rowsPerBatch: number
  /** Batches written at once (on PostgreSQL, each on its own connection of the pool). */
  inFlight: number
  /** Where the rows fall: this many hours from `from`. */
  from: number
  hours: number
  sessions: { id: string; userId: string }[]
}

export type ReplicaWrote = { rows: number; tokens: number; withSession: number }

if (import.meta.main) {
  const plan = JSON.parse(process.argv[2]!) as ReplicaPlan
  // Waiting for another replica's lock (SQLite's one writer) is expected here.
  const rt = await startRuntime(loadConfig(process.env), { busyTimeoutMs: COMMAND_BUSY_TIMEOUT_MS })
  const pick = <T>(values: T[]) => values[Math.floor(Math.random() * values.length)]!
  const wrote: ReplicaWrote = { rows: 0, tokens: 0, withSession: 0 }
  const batch = (): LogRow[] =>
    Array.from({ length: plan.rowsPerBatch }, () => {
      const session = Math.random() < 0.8 ? pick(plan.sessions) : undefined
      const failed = Math.random() < 0.1
      const promptTokens = Math.floor(Math.random() * 100)
      const completionTokens = failed ? 0 : Math.floor(Math.random() * 300)
      wrote.rows++
      wrote.tokens += promptTokens + completionTokens
      if (session) wrote.withSession++
      return {
        requestId: Bun.randomUUIDv7(),
        createdAt: plan.from + Math.floor(Math.random() * plan.hours * 3_600_000),
        method: 'POST',
        path: '/v1/chat/completions',
        status: failed ? pick([400, 429, 500]) : 200,
        latencyMs: Math.random() * 1000,
        userId: session?.userId ?? null,
        apiKeyId: null,
        sessionId: session?.id ?? null,
        model: pick(['llama3.2', 'qwen2.5:7b', 'gpt-4o-mini', null]),
        upstream: null,
        completionId: null,
        promptTokens,
        completionTokens,
        ttftMs: null,
        cost: Math.random() / 100,
        country: pick(['Germany (DE)', 'Japan (JP)', 'United States (US)', null]),
        ip: null,
        userAgent: null,
        errorType: failed ? 'invalid_value' : null,
        outcome: failed ? 'client_error' : 'ok',
      }
    })
  await Bun.sleep(Math.max(0, plan.startAt - Date.now()))
  for (let left = plan.batches; left > 0; left -= plan.inFlight)
    await Promise.all(Array.from({ length: Math.min(plan.inFlight, left) }, () => rt.store.telemetry.insertLogs(batch())))
  await rt.close()
  console.log(JSON.stringify(wrote))
}
