// The one Redis connection a server shares (Bun's built-in client) for the state its replicas
// must agree on: limits, blocks, counters, caches (REDIS_URL, keys under REDIS_PREFIX). It knows
// whether Redis answers: a failure marks it down (said once on stderr) and a background probe
// brings it back up, so callers ask `up` before each use and fall back as REDIS_FAILURE says
// (./fallback.ts).
import { RedisClient } from 'bun'
import type { Config } from '../config'
import type { Runtime } from '../runtime'

/** How often a lost Redis is tried again. */
const PROBE_MS = 1_000
/** How long one command may take before Redis counts as lost. */
const COMMAND_TIMEOUT_MS = 1_000

export type RedisSettings = NonNullable<Config['redis']>

export type RedisLink = {
  /** Every key of this installation starts with REDIS_PREFIX. */
  key(name: string): string
  /** Whether Redis answered last time it was asked. */
  readonly up: boolean
  /** Runs a command; a failure to reach Redis marks it down (and rejects). */
  send(command: string, args: string[]): Promise<unknown>
  /** Runs a Lua script atomically (EVALSHA, loading it once). */
  script(source: string, keys: string[], args: (string | number)[]): Promise<unknown>
  /** Publishes on a channel under the prefix. */
  publish(channel: string, message: string): Promise<void>
  /** Calls `listener` for each message on the channel (under the prefix), from every replica. */
  subscribe(channel: string, listener: (message: string) => void): Promise<void>
  /** Calls `listener` each time Redis goes down or comes back. */
  onChange(listener: (up: boolean) => void): void
  close(): void
}

/**
 * A Redis error that means Redis cannot serve us now: it cannot be reached, or it answered that
 * it cannot (out of memory, a replica after a failover, still loading its data, busy with a
 * script) — as opposed to an error in what we asked.
 */
export const unreachable = (error: unknown) => {
  const code = String((error as { code?: unknown })?.code ?? '')
  if (!code.startsWith('ERR_REDIS_')) return false
  if (code !== 'ERR_REDIS_SERVER_ERROR') return true
  return /^(OOM|READONLY|LOADING|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN)\b/.test(String((error as Error).message))
}

export function openRedis(settings: RedisSettings): RedisLink {
  const options = { autoReconnect: true, enableOfflineQueue: false, connectionTimeout: COMMAND_TIMEOUT_MS }
  const client = new RedisClient(settings.url, options)
  let subscriber: RedisClient | undefined
  const subscriptions = new Map<string, (message: string) => void>()
  const listeners: ((up: boolean) => void)[] = []
  const shas = new Map<string, string>()
  let up = true
  let probe: Timer | undefined
  let closed = false

  const setUp = (value: boolean, error?: unknown) => {
    // A link closed on shutdown is not lost: commands still finishing then fail quietly.
    if (up === value || closed) return
    up = value
    if (value) console.error('redis: reachable again; shared limits and caches are back')
    else
      console.error(
        `redis: unreachable (${(error as Error)?.message ?? 'no answer'}); ` +
          (settings.failure === 'closed' ? 'answering 503 until it is back (REDIS_FAILURE=closed)' : 'each replica keeps its own limits until it is back (REDIS_FAILURE=local)'),
      )
    for (const listener of listeners) listener(value)
    if (!value && !closed) probe ??= setInterval(tryAgain, PROBE_MS)
  }

  // Commands wait for the first connection; later ones fail at once while it is lost (no offline
  // queue: a request must not wait for Redis), and the probe reconnects. A first connection that
  // never settles (Redis lost while it was being made) is given up after the command timeout.
  let connecting: Promise<unknown> | undefined = withTimeout(client.connect()).catch((error) => setUp(false, error))

  const tryAgain = async () => {
    try {
      if (!client.connected) await withTimeout(client.connect())
      await withTimeout(client.send('PING', []))
      clearInterval(probe)
      probe = undefined
      await resubscribe()
      setUp(true)
    } catch {}
  }

  const send = async (command: string, args: string[]) => {
    if (connecting) await connecting
    connecting = undefined
    try {
      return await withTimeout(client.send(command, args))
    } catch (error) {
      if (unreachable(error)) setUp(false, error)
      throw error
    }
  }

  const resubscribe = async () => {
    if (!subscriptions.size) return
    subscriber?.close()
    subscriber = new RedisClient(settings.url, options)
    await subscriber.connect()
    for (const [channel, listener] of subscriptions) await subscriber.subscribe(channel, (message) => listener(String(message)))
  }

  return {
    key: (name) => settings.prefix + name,
    get up() {
      return up
    },
    send,
    async script(source, keys, args) {
      let sha = shas.get(source)
      if (!sha) shas.set(source, (sha = String(await send('SCRIPT', ['LOAD', source]))))
      try {
        return await send('EVALSHA', [sha, String(keys.length), ...keys, ...args.map(String)])
      } catch (error) {
        // A Redis restarted since (it keeps nothing here) has forgotten the script.
        if (!String((error as Error).message).includes('NOSCRIPT')) throw error
        shas.delete(source)
        return send('EVAL', [source, String(keys.length), ...keys, ...args.map(String)])
      }
    },
    async publish(channel, message) {
      await send('PUBLISH', [settings.prefix + channel, message])
    },
    async subscribe(channel, listener) {
      subscriptions.set(settings.prefix + channel, listener)
      if (!subscriber) {
        subscriber = new RedisClient(settings.url, options)
        await subscriber.connect()
      }
      await subscriber.subscribe(settings.prefix + channel, (message) => listener(String(message)))
    },
    onChange: (listener) => void listeners.push(listener),
    close() {
      closed = true
      clearInterval(probe)
      client.close()
      subscriber?.close()
    },
  }
}

class RedisTimeout extends Error {
  readonly code = 'ERR_REDIS_TIMEOUT'
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: Timer | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeout(`no answer within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const links = new WeakMap<Runtime, RedisLink | undefined>()

/** The runtime's Redis link, opened on first use and closed with the runtime; undefined without REDIS_URL. */
export function redisOf(rt: Runtime): RedisLink | undefined {
  if (links.has(rt)) return links.get(rt)
  const link = rt.config.redis ? openRedis(rt.config.redis) : undefined
  links.set(rt, link)
  if (link) rt.onClose(() => link.close())
  return link
}
