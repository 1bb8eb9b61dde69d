// What the metrics read when scraped rather than count as it happens: each upstream host's
// health, check latency and requests in flight (from the chat pool's own state), Redis and the
// database, the process; and the threats recorded (counted as the store records them).
import pkg from '../../package.json'
import { handleOf } from '../db/open'
import type { Runtime } from '../runtime'
import { redisOf } from '../shared/redis'
import type { Metrics, Upstreams } from './metrics'

/** The longest the database probe is waited for. */
const PROBE_CAP_S = 1

/** The upstream hosts as the pool keeps them (src/chat/host.ts): read, never changed. */
type Hosts = Pick<Upstreams, 'lists'> & {
  hosts: readonly { url: string; kind: string; reachable: boolean | undefined; latencyMs: number | null; inFlight: number; models: ReadonlyMap<string, unknown> }[]
}

/** Registers the runtime's gauges and counts its threats; `pool` is the chat pool (src/chat/pool.ts). */
export function watchGateway(rt: Runtime, metrics: Metrics, pool: Hosts) {
  metrics.watchUpstreams(pool)
  const hosts = pool.hosts
  const byHost = (value: (host: Hosts['hosts'][number]) => number | null) => () =>
    hosts.flatMap((host) => {
      const v = value(host)
      return v === null ? [] : [[[host.url, host.kind], v] as const]
    })
  const hostLabels = ['server_address', 'gen_ai_provider_name']
  metrics.gauge('ai_studio_upstream_up', 'Whether the upstream host answered its last check (1) or not (0)', hostLabels, byHost((h) => (h.reachable ? 1 : 0)))
  metrics.gauge(
    'ai_studio_upstream_check_latency_seconds',
    "How long the upstream host's last check took (absent while it is down)",
    hostLabels,
    byHost((h) => (h.latencyMs === null ? null : h.latencyMs / 1000)),
  )
  metrics.gauge('ai_studio_upstream_requests_in_flight', 'Requests the gateway has open on the upstream host', hostLabels, byHost((h) => h.inFlight))
  metrics.gauge('ai_studio_upstream_models', 'Models the upstream host listed at its last check', hostLabels, byHost((h) => h.models.size))

  const redis = redisOf(rt)
  if (redis) metrics.gauge('ai_studio_redis_up', 'Whether Redis answered the last command sent to it (1) or not (0)', [], () => [[[], redis.up ? 1 : 0]])

  const database = handleOf(rt.store)
  const { kind } = rt.config.database
  const poolSize = rt.config.database.kind === 'postgres' ? rt.config.database.poolSize : 1
  metrics.gauge('ai_studio_db_pool_max_connections', 'Connections the database pool may open: DATABASE_POOL_SIZE on PostgreSQL, 1 on SQLite', ['dialect'], () => [[[kind], poolSize]])
  // A trivial query through the pool at scrape time: it waits for a free connection, so its time
  // grows as the pool fills up (Bun's SQL client does not tell how many connections are busy).
  // Capped, so that a full pool cannot hold the scrape; a failed query leaves the gauge out.
  metrics.gauge('ai_studio_db_probe_seconds', `Time a trivial query took at scrape time, waiting for a pooled connection included (at most ${PROBE_CAP_S} s)`, ['dialect'], async () => {
    const started = performance.now()
    const query = database.dialect === 'postgres' ? database.sql`SELECT 1` : Promise.resolve(database.db.query('SELECT 1').get())
    // A query that fails after the cap has passed fails unheard.
    query.catch(() => {})
    await Promise.race([query, Bun.sleep(PROBE_CAP_S * 1000)])
    return [[[kind], Math.min(PROBE_CAP_S, (performance.now() - started) / 1000)]]
  })

  metrics.gauge('ai_studio_build_info', 'The running version (always 1)', ['version'], () => [[[pkg.version], 1]])
  const startedAt = Date.now() / 1000 - process.uptime()
  metrics.gauge('process_start_time_seconds', 'When the process started, in seconds since the epoch', [], () => [[[], Math.round(startedAt)]])
  metrics.gauge('process_resident_memory_bytes', 'Resident memory of the process', [], () => [[[], process.memoryUsage.rss()]])
  metrics.gauge('ai_studio_heap_used_bytes', 'JavaScript heap in use', [], () => [[[], process.memoryUsage().heapUsed]])

  countThreats(rt, metrics)
}

const counted = new WeakSet<object>()

/**
 * Counts each threat as the store records it: every threat the monitor (src/threats/) decides on
 * passes there, whichever feature reported the event.
 */
function countThreats(rt: Runtime, metrics: Metrics) {
  const threats = rt.store.threats
  if (counted.has(threats)) return
  counted.add(threats)
  const record = threats.record.bind(threats)
  threats.record = (threat, at) => {
    metrics.threat(threat.type, threat.severity)
    record(threat, at)
  }
}
