// Batches log rows off the response path: a batch is written in one transaction when it is
// full (LOG_BATCH_SIZE) or LOG_FLUSH_MS after its first row, and whatever is left on shutdown.
// A SIGKILL loses at most the rows of the current window.
import type { Runtime } from '../runtime'
import { insertLogs, type LogRow } from './store'

export type LogWriter = {
  add(row: LogRow): void
  /** Writes every queued row; readers call it to see their own requests. */
  flush(): Promise<void>
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
      await writer!.flush()
    })
  }
  return writer
}

function createWriter(rt: Runtime): LogWriter {
  const { logBatchSize, logFlushMs } = rt.config
  // Rows kept while the database refuses them (disk full, locked past busy_timeout).
  const maxQueued = logBatchSize * 200
  let queue: LogRow[] = []
  let timer: Timer | undefined
  let writing = Promise.resolve()

  const write = async () => {
    const batch = queue.splice(0, logBatchSize)
    if (batch.length === 0) return
    try {
      await insertLogs(rt.db, batch)
    } catch (error) {
      const dropped = Math.min(batch.length, Math.max(0, batch.length + queue.length - maxQueued))
      console.error(
        `request log: writing ${batch.length} rows failed (${(error as Error).message}); ` +
          (dropped ? `dropped the ${dropped} oldest, ` : '') +
          'will retry',
      )
      queue.unshift(...batch.slice(dropped))
      schedule()
      throw error
    }
  }

  const flush = async () => {
    clearTimeout(timer)
    timer = undefined
    const done = (writing = writing.then(async () => {
      try {
        while (queue.length) await write()
      } catch {}
    }))
    await done
  }

  const schedule = () => {
    timer ??= setTimeout(flush, logFlushMs)
    timer.unref?.()
  }

  return {
    add(row) {
      queue.push(row)
      if (queue.length >= logBatchSize) void flush()
      else schedule()
    },
    flush,
  }
}
