// GET /v1/health: every Ollama host, checked afresh, reported host by host. Public, as health
// endpoints are; anonymous callers get checks at most once a second, and neither where the hosts
// are nor what they serve.
import type { Pool } from './pool'
import type { UpstreamHealth } from './schemas'

export async function healthOf(pool: Pool, detailed: boolean) {
  await (detailed ? pool.checkAll() : pool.freshen())
  const upstreams: UpstreamHealth[] = pool.hosts.map((host) => {
    const seen = { reachable: host.reachable === true, latencyMs: host.latencyMs }
    if (!detailed) return seen
    return {
      url: host.url,
      ...seen,
      version: host.version,
      models: host.reachable ? [...host.models.values()].map((model) => model.name) : [],
      inFlight: host.inFlight,
      checkedAt: host.checkedAt === null ? null : new Date(host.checkedAt).toISOString(),
      error: host.error,
    }
  })
  const reachable = upstreams.filter((upstream) => upstream.reachable).length
  const status = reachable === upstreams.length ? 'healthy' : reachable > 0 ? 'degraded' : 'unhealthy'
  return { status, timestamp: new Date().toISOString(), upstreams } as const
}
