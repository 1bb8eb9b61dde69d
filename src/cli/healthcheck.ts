// `healthcheck`: asks the local server whether it is healthy (for Docker's HEALTHCHECK,
// whose slim image has no curl). Exit 0 when healthy, 1 otherwise.
import { loadConfig } from '../config'
import type { Command } from './command'

/** Where this machine reaches the server: HOST itself, unless it listens on every address. */
function localAddress(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') ? `[${host}]` : host
}

export const healthcheck: Command = {
  name: 'healthcheck',
  summary: 'exit 0 when the server on HOST:PORT answers healthy',
  usage: 'healthcheck',
  options: {},
  async run() {
    const { host, port } = loadConfig()
    const address = localAddress(host)
    // Bun's fetch would go through HTTP_PROXY when one is set; the server is right here.
    process.env.NO_PROXY = [process.env.NO_PROXY, address.replace(/^\[|\]$/g, '')].filter(Boolean).join(',')
    try {
      const res = await fetch(`http://${address}:${port}/api/auth/health/`, { signal: AbortSignal.timeout(2000) })
      const body = (await res.json()) as { status?: string }
      if (res.ok && body.status === 'healthy') return 0
      console.error(`unhealthy: HTTP ${res.status}`)
    } catch (error) {
      console.error(`unhealthy: ${(error as Error).message}`)
    }
    return 1
  },
}
