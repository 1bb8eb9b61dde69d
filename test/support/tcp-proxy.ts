// A TCP proxy that a test can stop and start again, to lose a server (Redis, PostgreSQL) mid-run
// the way a network or a restart loses it.
import type { Socket, TCPSocketListener } from 'bun'

/** `target` with its host and port replaced by the proxy's. */
function through(target: string, port: number) {
  const url = new URL(target)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return url.toString()
}

type Pipe = { peer?: Socket<Pipe>; pending: Uint8Array[] }

/**
 * A TCP proxy to the server at `target` (a redis:// or postgres:// URL) on a port of its own; `url`
 * is `target` through it. `stop()` drops every connection and refuses new ones until `start()`.
 */
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
    url: through(target, listenPort),
    start,
    stop() {
      listener?.stop(true)
      listener = undefined
      for (const socket of open) socket.end()
      open.clear()
    },
  }
}
