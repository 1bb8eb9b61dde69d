// Waits until the request log holds every request answered so far: Elysia runs the logging
// hook just after each response, then the writer's batch is flushed. Also reads the log's rows and
// puts rows in it directly, so that these tests' SQL on request_logs lives in one place.
import type { Runtime } from '../../src/runtime'
import { logWriter } from '../../src/telemetry/writer'

export async function settle(rt: Runtime) {
  await new Promise((resolve) => setImmediate(resolve))
  await logWriter(rt).flush()
}

export type LoggedRow = Record<string, string | number | null>

export const logRows = (rt: Runtime, where = '1 = 1', ...params: (string | number)[]) =>
  rt.db.query<LoggedRow, (string | number)[]>(`SELECT * FROM request_logs WHERE ${where} ORDER BY id`).all(...params)

export type RequestLogValues = { userId?: string; model?: string; status?: number; outcome?: string; createdAt?: number; completionId?: string }

/** Puts one answered chat request straight into the request log, for tests of what reads it. */
export function insertRequestLog(rt: Runtime, values: RequestLogValues) {
  rt.db
    .query(
      `INSERT INTO request_logs (request_id, created_at, method, path, status, latency_ms, user_id, model, completion_id, outcome, total_tokens)
       VALUES (?, ?, 'POST', '/v1/chat/completions', ?, 12.5, ?, ?, ?, ?, 42)`,
    )
    .run(
      Bun.randomUUIDv7(),
      values.createdAt ?? Date.now(),
      values.status ?? 200,
      values.userId ?? null,
      values.model ?? 'llama3.2',
      values.completionId ?? null,
      values.outcome ?? 'ok',
    )
}
