// Serves an app on a real socket (127.0.0.1, random port), for tests that need what only a
// listener gives: clients that disconnect, streams read as they arrive, SDKs over HTTP.
import type { AnyElysia } from 'elysia'

export function listen(app: AnyElysia) {
  /** Every request the server received, so a test can read the facts a handler recorded. */
  const received: Request[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    fetch: (request) => {
      received.push(request)
      return app.fetch(request)
    },
  })
  ;(app as unknown as { server: typeof server }).server = server
  return { url: `http://127.0.0.1:${server.port}`, received, stop: () => server.stop(true) }
}
