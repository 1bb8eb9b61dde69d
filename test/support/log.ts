// Waits until the request log holds every request answered so far: Elysia runs the logging
// hook just after each response, then the writer's batch is flushed.
import type { Runtime } from '../../src/runtime'
import { logWriter } from '../../src/telemetry/writer'

export async function settle(rt: Runtime) {
  await new Promise((resolve) => setImmediate(resolve))
  await logWriter(rt).flush()
}

export type LoggedRow = Record<string, string | number | null>

export const logRows = (rt: Runtime, where = '1 = 1', ...params: (string | number)[]) =>
  rt.db.query<LoggedRow, (string | number)[]>(`SELECT * FROM request_logs WHERE ${where} ORDER BY id`).all(...params)
