// The telemetry store's interface and types: the request log (one row per request answered),
// written in batches together with the rollups that summarise it and its sessions' totals, and
// pruned by age. It lives below the runtime (not in src/telemetry/) because the Store type, which
// the runtime holds, names it: a feature folder imports the runtime, so Store naming a type there
// would be an import cycle (test/import-cycles.test.ts). src/telemetry/store.ts re-exports it.

export const OUTCOMES = ['ok', 'client_error', 'server_error', 'cancelled', 'upstream_error'] as const
export type Outcome = (typeof OUTCOMES)[number]

/** One request as the log records it; times in ms since the epoch. */
export type LogRow = {
  requestId: string
  createdAt: number
  method: string
  path: string
  status: number
  latencyMs: number
  userId: string | null
  apiKeyId: string | null
  sessionId: string | null
  model: string | null
  upstream: string | null
  completionId: string | null
  promptTokens: number
  completionTokens: number
  ttftMs: number | null
  cost: number
  country: string | null
  ip: string | null
  userAgent: string | null
  errorType: string | null
  outcome: Outcome
  /** The caller's own id of its end user, as it sent it (OpenAI's `user`; at most 256 characters). */
  endUser?: string | null
  /** The caller's own labels of the request (OpenAI's `metadata`: at most 16 pairs of strings), stored as JSON. */
  metadata?: Record<string, string> | null
  /** How many images an image request made. */
  images?: number | null
  /** Answered from the response cache (src/cache/): `cost` is then 0, and `costSaved` what Ollama's answer cost when it was stored. */
  cached?: boolean
  costSaved?: number
  /** Made up by populate-dashboard-data (removed again by `--clear`). */
  generated?: boolean
  /** Counted in the rollups only, its raw row not kept (an anonymous request past RATE_LIMIT_ANONYMOUS). */
  rollupOnly?: boolean
}

export interface TelemetryStore {
  /**
   * Writes a batch in one transaction: the rows (but those marked `rollupOnly`), their rollup
   * cells (hourly, daily, per model, country and error; by increments) and their sessions'
   * totals. A database that is busy (another process's write lock) rejects the whole batch.
   */
  insertLogs(rows: LogRow[]): Promise<void>
  /** Removes the rows made by populate-dashboard-data, taking them out of the rollups too; returns how many. */
  deleteGeneratedLogs(): Promise<number>
  /** Deletes up to `limit` of the oldest rows created before `before` (the rollups keep their totals); returns how many. */
  pruneLogs(before: number, limit: number): Promise<number>
}
