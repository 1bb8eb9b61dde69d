// `serve`: migrate, listen, and on SIGTERM/SIGINT drain: answer new requests 503, let in-flight
// requests finish up to SHUTDOWN_TIMEOUT_MS, end the rest with an error they can read, stop
// listening, run the closers (log flush) and close the database.
import type { Server } from 'bun'
import { createApp } from '../app'
import { ConfigError, loadConfig, type Config } from '../config'
import { BodyDeadline } from '../http/body-deadline'
import { withDeclaredLength } from '../http/chunked-body'
import { withRoutableUrl } from '../http/short-host'
import { chatSockets, type ChatSockets } from '../chat/ws/sockets'
import { metricsListener } from '../observability/endpoint'
import { useLogSettings } from '../observability/logs'
import { metricsOf } from '../observability/metrics'
import { startRuntime, type Runtime } from '../runtime'
import { startTracing } from '../observability/tracing'
import type { Command } from './command'

/** How often shutdown looks whether requests are still in flight: polled, so requests count nothing. */
const POLL_MS = 20
/** How long the endings of requests cut at the deadline (error events, 503s) get to reach their clients. */
const ENDINGS_MS = 500
/** How long closing the connections may take before the database is closed all the same. */
const CLOSE_MS = 250

/** True once no request is in flight (streams and chats over WebSockets included), false when `ms` pass first. */
async function settled(server: Server<unknown>, sockets: ChatSockets, ms: number): Promise<boolean> {
  const until = performance.now() + ms
  while (server.pendingRequests > 0 || sockets.inFlight() > 0) {
    if (performance.now() >= until) return false
    await Bun.sleep(POLL_MS)
  }
  return true
}

/**
 * A response sent without reading the request's body (an unknown route, a 405, a 415, a GET with
 * a body) closes the connection: Bun would otherwise keep reading the body to reach the next
 * request, for as long as a client cares to trickle it (BODY_TIMEOUT_MS guards only bodies read).
 */
function closingUnread(request: Request, response: Response): Response {
  const sentBody = request.headers.has('transfer-encoding') || (request.headers.get('content-length') ?? '0') !== '0'
  if (!sentBody || request.bodyUsed) return response
  try {
    response.headers.set('connection', 'close')
    return response
  } catch {
    // Headers that cannot change (a Response made elsewhere): the same response, anew.
    const headers = new Headers(response.headers)
    headers.set('connection', 'close')
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
  }
}

/** Bun.serve; an address it cannot listen on is a configuration error naming HOST and PORT. */
async function listening(config: Config, rt: Runtime, options: Parameters<typeof Bun.serve>[0]) {
  try {
    return Bun.serve(options)
  } catch (error) {
    await rt.close()
    const reason = (error as Error).message
    throw new ConfigError('HOST and PORT', `an address this machine can listen on (${reason})`, `${config.host}:${config.port}`)
  }
}

/** The listener's own counts, read when the metrics are scraped. */
function watchServer(rt: Runtime, server: Server<unknown>, sockets: ChatSockets) {
  const metrics = metricsOf(rt)
  if (!metrics) return
  metrics.gauge('http_server_active_requests', 'HTTP requests in progress, streams until their last byte (http.server.active_requests)', [], () => [[[], server.pendingRequests]])
  metrics.gauge('ai_studio_websockets_open', 'Open WebSocket connections (/v1/chat/ws)', [], () => [[[], server.pendingWebSockets]])
  metrics.gauge('ai_studio_websocket_requests_in_flight', 'Chat requests in progress over WebSockets', [], () => [[[], sockets.inFlight()]])
}

export const serve: Command = {
  name: 'serve',
  summary: 'start the server (the default)',
  usage: 'serve',
  options: {},
  async run() {
    const config = loadConfig()
    useLogSettings(config)
    const rt = await startRuntime(config)
    // Loaded (when OTEL_EXPORTER_OTLP_ENDPOINT asks for traces) before the first request is served.
    await startTracing(rt)
    const app = createApp(rt)
    const chunkedBodies = new BodyDeadline(config.bodyTimeoutMs)
    // Chat over WebSockets (/v1/chat/ws): each chat message runs through the app like a POST.
    const sockets = chatSockets(rt, (request) => app.fetch(request))
    const server = await listening(config, rt, {
      port: config.port,
      hostname: config.host,
      // Declared lengths above MAX_BODY_BYTES are answered by the body-limit plugin with a proper
      // 413 envelope, so Bun's own (bare) refusal sits far above it; chunked bodies are capped
      // at MAX_BODY_BYTES (and BODY_TIMEOUT_MS) by withDeclaredLength before the app reads them.
      maxRequestBodySize: Math.max(config.maxBodyBytes, 64 * 1024 * 1024),
      // Idle connections close; a stream waiting on its model stays open as long as the upstream timeout allows.
      idleTimeout: Math.min(255, Math.ceil(config.upstreamTimeoutMs / 1000) + 10),
      websocket: sockets.websocket,
      fetch: async (request, server) => {
        if (sockets.wants(request)) {
          const refused = sockets.upgrade(request, server)
          if (refused) return refused
          return undefined as unknown as Response
        }
        const routed = await withDeclaredLength(withRoutableUrl(request, server), config.maxBodyBytes, chunkedBodies, server)
        return closingUnread(routed, await app.fetch(routed))
      },
      error: () => new Response('Internal server error', { status: 500 }),
    })
    // Elysia reads the client address from its server reference.
    ;(app as unknown as { server: typeof server }).server = server
    console.log(`AI Studio backend listening on http://${server.hostname}:${server.port} (admin UI at /admin, API docs at /swagger)`)
    watchServer(rt, server, sockets)
    let metricsServer: ReturnType<typeof metricsListener>
    try {
      metricsServer = metricsListener(rt)
    } catch (error) {
      void server.stop(true)
      await rt.close()
      throw error
    }
    if (metricsServer) console.log(`metrics at http://${metricsServer.hostname}:${metricsServer.port}/metrics`)

    const shutdown = async (signal: string) => {
      if (rt.draining) return
      // Listening goes on, and kept-alive connections stay open, while the requests in flight
      // finish: every new request is answered 503 with `Connection: close` (see draining.ts).
      rt.draining = true
      console.log(`${signal}: finishing in-flight requests (up to ${config.shutdownTimeoutMs} ms); new requests get 503`)
      if (!(await settled(server, sockets, config.shutdownTimeoutMs))) {
        // Streams end with an error event and [DONE], replies not yet sent with a 503.
        rt.cutShort()
        await settled(server, sockets, ENDINGS_MS)
      }
      // Chat sockets close with 1001 (going away) once their requests have ended.
      sockets.closeAll()
      // Nothing is in flight any more, or what is left would not end (a client that stopped
      // reading): every connection is closed now, so that the whole shutdown stays within
      // SHUTDOWN_TIMEOUT_MS plus ENDINGS_MS, under Docker's stop grace period.
      await Promise.race([server.stop(true), Bun.sleep(CLOSE_MS)])
      void metricsServer?.stop(true)
      await rt.close()
      console.log('stopped cleanly')
      process.exit(0)
    }
    process.on('SIGTERM', () => void shutdown('SIGTERM'))
    process.on('SIGINT', () => void shutdown('SIGINT'))
    return new Promise<never>(() => {})
  },
}
