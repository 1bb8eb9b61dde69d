// GET /v1/health: a fresh check of every Ollama host, reported host by host.
import type { Pool } from './pool'
import type { UpstreamHealth } from './schemas'

export async function healthOf(pool: Pool) {
  await pool.checkAll()
  const upstreams: UpstreamHealth[] = pool.hosts.map((host) => ({
    url: host.url,
    reachable: host.reachable === true,
    latencyMs: host.latencyMs,
    version: host.version,
    models: host.reachable ? [...host.models.values()].map((model) => model.name) : [],
    inFlight: host.inFlight,
    checkedAt: host.checkedAt === null ? null : new Date(host.checkedAt).toISOString(),
    error: host.error,
  }))
  const reachable = upstreams.filter((upstream) => upstream.reachable).length
  const status = reachable === upstreams.length ? 'healthy' : reachable > 0 ? 'degraded' : 'unhealthy'
  return { status, timestamp: new Date().toISOString(), upstreams } as const
}
