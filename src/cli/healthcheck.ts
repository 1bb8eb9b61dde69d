// `healthcheck`: asks the local server whether it is healthy (for Docker's HEALTHCHECK,
// whose slim image has no curl). Exit 0 when healthy, 1 otherwise.
import { loadConfig } from '../config'
import type { Command } from './command'

export const healthcheck: Command = {
  name: 'healthcheck',
  summary: 'exit 0 when the server on PORT answers healthy',
  usage: 'healthcheck',
  options: {},
  async run() {
    const { port } = loadConfig()
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/auth/health/`, { signal: AbortSignal.timeout(2000) })
      const body = (await res.json()) as { status?: string }
      if (res.ok && body.status === 'healthy') return 0
      console.error(`unhealthy: HTTP ${res.status}`)
    } catch (error) {
      console.error(`unhealthy: ${(error as Error).message}`)
    }
    return 1
  },
}
