// `serve`: migrate, listen, and on SIGTERM/SIGINT stop accepting, let in-flight requests
// finish up to SHUTDOWN_TIMEOUT_MS, run the closers (log flush) and close the database.
import { createApp } from '../app'
import { ConfigError, loadConfig, type Config } from '../config'
import { BodyDeadline } from '../http/body-deadline'
import { withDeclaredLength } from '../http/chunked-body'
import { withRoutableUrl } from '../http/short-host'
import { startRuntime, type Runtime } from '../runtime'
import type { Command } from './command'

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

export const serve: Command = {
  name: 'serve',
  summary: 'start the server (the default)',
  usage: 'serve',
  options: {},
  async run() {
    const config = loadConfig()
    const rt = await startRuntime(config)
    const app = createApp(rt)
    const chunkedBodies = new BodyDeadline(config.bodyTimeoutMs)
    const server = await listening(config, rt, {
      port: config.port,
      hostname: config.host,
      // Declared lengths above MAX_BODY_BYTES are answered by the body-limit plugin with a proper
      // 413 envelope, so Bun's own (bare) refusal sits far above it; chunked bodies are capped
      // at MAX_BODY_BYTES (and BODY_TIMEOUT_MS) by withDeclaredLength before the app reads them.
      maxRequestBodySize: Math.max(config.maxBodyBytes, 64 * 1024 * 1024),
      // Idle connections close; a stream waiting on its model stays open as long as the upstream timeout allows.
      idleTimeout: Math.min(255, Math.ceil(config.upstreamTimeoutMs / 1000) + 10),
      fetch: async (request, server) => app.fetch(await withDeclaredLength(withRoutableUrl(request, server), config.maxBodyBytes, chunkedBodies, server)),
      error: () => new Response('Internal server error', { status: 500 }),
    })
    // Elysia reads the client address from its server reference.
    ;(app as unknown as { server: typeof server }).server = server
    console.log(`AI Studio backend listening on http://${server.hostname}:${server.port} (admin UI at /admin, API docs at /swagger)`)

    let stopping = false
    const shutdown = async (signal: string) => {
      if (stopping) return
      stopping = true
      console.log(`${signal}: finishing in-flight requests (up to ${config.shutdownTimeoutMs} ms)`)
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs, 'timeout'))
      if ((await Promise.race([server.stop(false).then(() => 'done' as const), deadline])) === 'timeout')
        await server.stop(true)
      await rt.close()
      console.log('stopped cleanly')
      process.exit(0)
    }
    process.on('SIGTERM', () => void shutdown('SIGTERM'))
    process.on('SIGINT', () => void shutdown('SIGINT'))
    return new Promise<never>(() => {})
  },
}
