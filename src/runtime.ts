// What a running server holds: its configuration, its database and the signing key,
// plus the background work (timers, writers) that must be stopped on shutdown. It knows no
// feature: each keeps its own in-memory state per runtime (perRuntime), so features may take
// the runtime without the runtime importing them back.
import { randomBytes } from 'node:crypto'
import type { Config } from './config'
import { COMMAND_BUSY_TIMEOUT_MS, SERVER_BUSY_TIMEOUT_MS } from './db/busy'
import { openStore } from './db/open'
import type { Store } from './db/store'

export type Runtime = {
  config: Config
  /** The storage of every feature, behind its store interface (src/db/store.ts). */
  store: Store
  secretKey: string
  /** Set when shutdown begins: new requests are refused with 503 while those in flight finish. */
  draining: boolean
  /** Registers how to end the work still in flight when the shutdown deadline passes. */
  onCutShort(cut: () => void): void
  /** The shutdown deadline passed: ends what is still in flight (a stream with an error event). */
  cutShort(): void
  /** Registers work to finish on shutdown; closers run in reverse order before the database closes. */
  onClose(closer: () => unknown): void
  close(): Promise<void>
}

export type RuntimeOptions = {
  /**
   * How long a statement may block, waiting for another process's write lock, once started.
   * A server must not stall (SERVER_BUSY_TIMEOUT_MS, the default); a command-line tool may
   * wait (COMMAND_BUSY_TIMEOUT_MS).
   */
  busyTimeoutMs?: number
}

export async function startRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  // Start-up serves no one yet: it may wait for a lock as long as a command-line tool.
  const { store } = await openStore(config.database, { busyTimeoutMs: COMMAND_BUSY_TIMEOUT_MS })
  const secretKey = config.secretKey ?? (await store.settings.ensure('secret_key', randomBytes(48).toString('base64url')))
  store.setLockTimeout(options.busyTimeoutMs ?? SERVER_BUSY_TIMEOUT_MS)
  const cutters: (() => void)[] = []
  const closers: (() => unknown)[] = []
  let closed = false
  return {
    config,
    store,
    secretKey,
    draining: false,
    onCutShort: (cut) => void cutters.push(cut),
    cutShort: () => cutters.forEach((cut) => cut()),
    onClose: (closer) => void closers.push(closer),
    async close() {
      if (closed) return
      closed = true
      for (const closer of closers.reverse()) await closer()
      await store.close()
    },
  }
}

/**
 * A feature's in-memory state for each runtime (a limiter, the threat monitor): made on the
 * first call for a runtime, closed with it.
 */
export function perRuntime<T extends { close(): unknown }>(make: (rt: Runtime) => T): (rt: Runtime) => T {
  const made = new WeakMap<Runtime, T>()
  return (rt) => {
    const known = made.get(rt)
    if (known) return known
    const state = make(rt)
    made.set(rt, state)
    rt.onClose(() => state.close())
    return state
  }
}
