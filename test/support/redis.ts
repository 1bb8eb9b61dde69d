// Redis for the tests: the machine's (REDIS_TEST_URL, default redis://127.0.0.1:6379), each user
// of it under a prefix of its own (test:<pid>:<n>:), whose keys are deleted when the test process
// ends (./preload.ts); and a TCP proxy in front of it that a test can stop and start again, to
// lose Redis mid-run the way a network or a restart loses it.
import { RedisClient, type Socket, type TCPSocketListener } from 'bun'

export const redisTestUrl = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'

const prefixRoot = `test:${process.pid}:`
let made = 0

/** A REDIS_PREFIX of its own, for one runtime or one group of replicas. */
export const testPrefix = () => `${prefixRoot}${++made}:`

/** Deletes every key this process made (every prefix under test:<pid>:). */
export async function deleteTestKeys() {
  const client = new RedisClient(redisTestUrl)
  try {
    let cursor = '0'
    do {
      const [next, keys] = (await client.send('SCAN', [cursor, 'MATCH', `${prefixRoot}*`, 'COUNT', '1000'])) as [string, string[]]
      if (keys.length) await client.send('DEL', keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    client.close()
  }
}

/**
 * Whether Redis answers, for test files that need it. Under CI=true an unreachable Redis throws
 * (the run fails); elsewhere it is said out loud.
 */
export async function redisReachable(what: string): Promise<boolean> {
  const client = new RedisClient(redisTestUrl, { autoReconnect: false, connectionTimeout: 2000 })
  try {
    await client.send('PING', [])
    return true
  } catch (error) {
    const reason = `Redis at ${redisTestUrl} is unreachable (${(error as Error).message})`
    if (process.env.CI === 'true') throw new Error(`${reason}: ${what} cannot run`)
    console.warn(`\n*** ${reason}: ${what} SKIPPED (with CI=true this fails the run) ***\n`)
    return false
  } finally {
    client.close()
  }
}

type Pipe = { peer?: Socket<Pipe>; pending: Uint8Array[] }

/** A TCP proxy to the Redis at `target` on a port of its own: `stop()` drops every connection and refuses new ones until `start()`. */
export async function tcpProxy(target: string) {
  const { hostname, port } = new URL(target)
  let listener: TCPSocketListener<Pipe> | undefined
  const open = new Set<Socket<Pipe>>()
  let listenPort = 0
  const start = () => {
    listener = Bun.listen<Pipe>({
      hostname: '127.0.0.1',
      port: listenPort,
      socket: {
        async open(client) {
          client.data = { pending: [] }
          open.add(client)
          const upstream = await Bun.connect<Pipe>({
            hostname,
            port: Number(port),
            socket: {
              data: (_, chunk) => void client.write(chunk),
              close: () => void client.end(),
              error: () => void client.end(),
            },
          }).catch(() => undefined)
          if (!upstream) return void client.end()
          upstream.data = { peer: client, pending: [] }
          open.add(upstream)
          client.data.peer = upstream
          for (const chunk of client.data.pending) upstream.write(chunk)
        },
        data(client, chunk) {
          if (client.data.peer) client.data.peer.write(chunk)
          else client.data.pending.push(new Uint8Array(chunk))
        },
        close: (client) => void client.data.peer?.end(),
        error: (client) => void client.data.peer?.end(),
      },
    })
    listenPort = listener.port
  }
  start()
  return {
    url: `redis://127.0.0.1:${listenPort}`,
    start,
    stop() {
      listener?.stop(true)
      listener = undefined
      for (const socket of open) socket.end()
      open.clear()
    },
  }
}
