// Batches log rows off the response path: a batch is written in one transaction when it is
// full (LOG_BATCH_SIZE) or LOG_FLUSH_MS after its first row, and whatever is left on shutdown.
// A SIGKILL loses at most the rows of the current window. While another process holds the
// database's write lock, rows wait and are retried with backoff (nothing is lost), off the
// request path.
import { Backoff, isBusy, SHUTDOWN_RETRY_MS } from '../db/busy'
import { metricsOf } from '../observability/metrics'
import type { Runtime } from '../runtime'
import type { LogRow } from './store'

export type LogWriter = {
  /** Queues the row; `written` (a traced request's log-write span) hears whether its batch was written or the row given up. */
  add(row: LogRow, written?: (ok: boolean) => void): void
  /** Writes every queued row (one attempt); readers call it to see their own requests. */
  flush(): Promise<void>
  /** Keeps trying until every row is written or `timeoutMs` has passed (shutdown). */
  drain(timeoutMs?: number): Promise<void>
}

const writers = new WeakMap<Runtime, LogWriter>()

/** The runtime's one writer, created on first use and flushed when the runtime closes. */
export function logWriter(rt: Runtime): LogWriter {
  let writer = writers.get(rt)
  if (!writer) {
    writer = createWriter(rt)
    writers.set(rt, writer)
    // Elysia logs a response from a setImmediate after sending it: let those run first.
    rt.onClose(async () => {
      await new Promise((resolve) => setImmediate(resolve))
      await writer!.drain()
    })
  }
  return writer
}

function createWriter(rt: Runtime): LogWriter {
  const { logBatchSize, logFlushMs } = rt.config
  // Rows kept while the database refuses them (another process's lock, a full disk): enough
  // for minutes of heavy traffic; past it the oldest go, so memory cannot grow without bound.
  const maxQueued = logBatchSize * 200
  let queue: LogRow[] = []
  const waiting = new Map<LogRow, (ok: boolean) => void>()
  const tell = (rows: LogRow[], ok: boolean) => {
    if (!waiting.size) return
    for (const row of rows) {
      const listener = waiting.get(row)
      waiting.delete(row)
      listener?.(ok)
    }
  }
  let timer: Timer | undefined
  let writing = Promise.resolve()
  const backoff = new Backoff()
  let failingSince: number | undefined
  let lastFailure: unknown
  const metrics = metricsOf(rt)
  metrics?.gauge('ai_studio_log_queue_rows', 'Request log rows waiting to be written', [], () => [[[], queue.length]])

  const write = async () => {
    const batch = queue.splice(0, logBatchSize)
    if (batch.length === 0) return
    const started = performance.now()
    try {
      await rt.store.telemetry.insertLogs(batch)
      metrics?.logBatchWritten(batch.length, (performance.now() - started) / 1000)
      tell(batch, true)
    } catch (error) {
      metrics?.logBatchFailed()
      const dropped = Math.min(batch.length, Math.max(0, batch.length + queue.length - maxQueued))
      tell(batch.slice(0, dropped), false)
      queue.unshift(...batch.slice(dropped))
      // Said once when writing starts to fail, and again whenever rows are lost; retries are quiet.
      if (failingSince === undefined || dropped)
        console.error(
          `request log: writing ${batch.length} rows failed (${(error as Error).message}); ` +
            (dropped ? `dropped the ${dropped} oldest, ` : '') +
            'will retry (with backoff)',
        )
      failingSince ??= Date.now()
      lastFailure = error
      throw error
    }
    if (failingSince !== undefined) console.error(`request log: writing again after ${Date.now() - failingSince} ms`)
    failingSince = undefined
    backoff.reset()
  }

  /**
   * Writes the queued rows: all of them, or only whole batches (when one is full). A store that
   * writes asynchronously (PostgreSQL) sees rows arrive while it writes: a partial batch left
   * then waits for LOG_FLUSH_MS, as any partial batch does.
   */
  const writeQueued = async (wholeBatchesOnly: boolean) => {
    clearTimeout(timer)
    timer = undefined
    const done = (writing = writing.then(async () => {
      try {
        while (queue.length >= (wholeBatchesOnly ? logBatchSize : 1)) await write()
      } catch {
        // Retried later, off the request path: each attempt blocks at most the server's busy timeout.
        clearTimeout(timer)
        timer = undefined
        return schedule(backoff.next())
      }
      if (queue.length) schedule()
    }))
    await done
  }
  const flush = () => writeQueued(false)

  const schedule = (delay = logFlushMs) => {
    timer ??= setTimeout(flush, delay)
    timer.unref?.()
  }

  return {
    add(row, written) {
      queue.push(row)
      if (written) waiting.set(row, written)
      // While the database refuses writes, a full batch waits for the next retry instead of trying at once.
      if (queue.length >= logBatchSize && !backoff.waiting) void writeQueued(true)
      else schedule()
    },
    flush,
    async drain(timeoutMs = SHUTDOWN_RETRY_MS) {
      const deadline = Date.now() + timeoutMs
      // Only a lock held elsewhere is worth waiting for: it goes away; a closed database or a full disk does not.
      for (await flush(); queue.length && isBusy(lastFailure) && Date.now() < deadline; await flush()) await Bun.sleep(50)
      clearTimeout(timer)
      if (queue.length) console.error(`request log: ${queue.length} rows were not written (${(lastFailure as Error).message})`)
      tell(queue, false)
    },
  }
}
