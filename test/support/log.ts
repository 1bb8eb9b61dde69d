// Waits until the request log holds every request answered so far: Elysia runs the logging
// hook just after each response, then the writer's batch is flushed. Also reads the log's rows
// and puts rows in it directly, through the stores (no SQL), so that these tests run on any backend.
import type { AdminLog } from '../../src/db/stores/admin'
import type { Runtime } from '../../src/runtime'
import type { LogRow } from '../../src/telemetry/store'
import { logWriter } from '../../src/telemetry/writer'

export async function settle(rt: Runtime) {
  await new Promise((resolve) => setImmediate(resolve))
  await logWriter(rt).flush()
}

/** A row of the request log as the admin's log view reads it (camelCase, times in ms). */
export type LoggedRow = AdminLog

const PAGE = 1000

/** Every row of the request log that `which` accepts, oldest first (read a page at a time through the admin store). */
export async function logRows(rt: Runtime, which: (row: LoggedRow) => boolean = () => true): Promise<LoggedRow[]> {
  const rows: LoggedRow[] = []
  for (let before: number | undefined; ; ) {
    const page = await rt.store.admin.listLogs({ before, limit: PAGE })
    rows.push(...page)
    if (page.length < PAGE) break
    before = page.at(-1)!.id
  }
  return rows.reverse().filter(which)
}

export type RequestLogValues = { userId?: string; model?: string; status?: number; outcome?: LogRow['outcome']; createdAt?: number; completionId?: string; path?: string }

/** Puts one answered request (a chat unless `path` says otherwise; 42 tokens) straight into the request log, for tests of what reads it. */
export async function insertRequestLog(rt: Runtime, values: RequestLogValues) {
  await rt.store.telemetry.insertLogs([
    {
      requestId: Bun.randomUUIDv7(),
      createdAt: values.createdAt ?? Date.now(),
      method: 'POST',
      path: values.path ?? '/v1/chat/completions',
      status: values.status ?? 200,
      latencyMs: 12.5,
      userId: values.userId ?? null,
      apiKeyId: null,
      sessionId: null,
      model: values.model ?? 'llama3.2',
      upstream: null,
      completionId: values.completionId ?? null,
      promptTokens: 30,
      completionTokens: 12,
      ttftMs: null,
      cost: 0,
      country: null,
      ip: null,
      userAgent: null,
      errorType: null,
      outcome: values.outcome ?? 'ok',
    },
  ])
}
