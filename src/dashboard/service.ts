// Builds the dashboard from the rollups: continuous series (empty buckets are zeros), totals,
// and the users, feedback and threats sections. Admins (and their keys with the admin scope) see
// everyone; a user sees their own.
import { mayAct, type Principal } from '../auth/principal'
import type { DashboardStore, Slice } from '../db/stores/dashboard'
import { HOUR } from '../http/dates'
import type { Dashboard } from './model'
import { bucketsOf, type Window } from './range'

const TOP = 10

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits
const ratio = (part: number, whole: number, digits: number) => (whole ? round(part / whole, digits) : 0)
/** ISO 8601 without milliseconds, as the seed shows it: 2025-07-14T00:00:00Z. */
export const isoTime = (time: number) => new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z')

export async function buildDashboard(store: DashboardStore, principal: Principal, window: Window, now = Date.now()): Promise<Dashboard> {
  // An admin's key without the admin scope sees its own user's, as any user's key does.
  const admin = mayAct(principal, 'admin')
  const slice: Slice = { scope: admin ? '' : principal.userId, ...window }
  const [series, errors, models, countries, users, sessions, ratings] = await Promise.all([
    store.trafficSeries(slice),
    store.topValues('errors', slice, TOP),
    store.topValues('models', slice, TOP),
    store.topValues('countries', slice, TOP),
    store.activeUsers(slice),
    store.sessionStats(slice),
    store.ratingCounts(slice),
  ])

  const byBucket = new Map(series.map((row) => [row.bucket, row]))
  const buckets = bucketsOf(window).map((time) => ({ timestamp: isoTime(time), row: byBucket.get(time) }))
  const total = { requests: 0, successes: 0, latency: 0, tokens: 0, cost: 0, completions: 0, cacheHits: 0, costSaved: 0 }
  for (const row of series) {
    total.requests += row.requests
    total.successes += row.successes
    total.latency += row.latencyMsSum
    total.tokens += row.tokens
    total.cost += row.cost
    total.completions += row.completions
    total.cacheHits += row.cacheHits
    total.costSaved += row.costSaved
  }

  const distribution = { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 }
  let ratingSum = 0
  for (const { rating, ratings: count } of ratings) {
    distribution[String(rating) as keyof typeof distribution] = count
    ratingSum += rating * count
  }
  const totalFeedback = Object.values(distribution).reduce((a, b) => a + b, 0)

  return {
    range: window.range,
    generatedAt: isoTime(now),
    requests: buckets.map(({ timestamp, row }) => ({
      timestamp,
      success: row?.successes ?? 0,
      error: row ? row.requests - row.successes : 0,
    })),
    errorsBreakdown: errors.map(({ value, requests }) => ({ label: value, value: requests })),
    topModels: models.map(({ value, requests }) => ({ name: value, requests })),
    costs: buckets.map(({ timestamp, row }) => ({ timestamp, cost: round(row?.cost ?? 0, 6) })),
    topCountries: countries.map(({ value, requests }) => ({ name: value, requests })),
    latency: buckets.map(({ timestamp, row }) => ({
      timestamp,
      latency: row ? ratio(row.latencyMsSum / 1000, row.requests, 3) : 0,
    })),
    summary: {
      totalRequests: total.requests,
      successfulRequests: total.successes,
      avgLatencyMs: ratio(total.latency, total.requests, 1),
      totalCost: round(total.cost, 6),
      totalTokens: total.tokens,
      avgTokensPerRequest: ratio(total.tokens, total.requests, 2),
      avgCostPerRequest: ratio(total.cost, total.requests, 6),
      cache: { hits: total.cacheHits, hitRate: ratio(total.cacheHits, total.completions, 4), costSaved: round(total.costSaved, 6) },
    },
    users: {
      activeUsers: users,
      totalSessions: sessions.sessions,
      avgSessionCost: round(sessions.cost ?? 0, 6),
      avgSessionRequests: round(sessions.requests ?? 0, 2),
    },
    feedback: { totalFeedback, avgRating: ratio(ratingSum, totalFeedback, 2), ratingDistribution: distribution },
    threats: admin ? await threats(store, slice) : noThreats,
  }
}

const noThreats = { totalThreats: 0, unresolvedThreats: 0, criticalThreats: 0, highThreats: 0, topThreatTypes: [] }

async function threats(store: DashboardStore, slice: Slice): Promise<Dashboard['threats']> {
  const stats = await store.threatStats(slice, 5)
  return {
    totalThreats: stats.total ?? 0,
    unresolvedThreats: stats.unresolved ?? 0,
    criticalThreats: stats.critical ?? 0,
    highThreats: stats.high ?? 0,
    topThreatTypes: stats.types,
  }
}

/** Redis as the health check found it (with REDIS_URL only), and what its loss means (REDIS_FAILURE). */
export type RedisHealth = { up: boolean; failure: 'local' | 'closed' }

/**
 * Healthy while the database answers and, with REDIS_URL, Redis answers or its loss is covered
 * by each replica's own limits (REDIS_FAILURE=local); under `closed` a lost Redis means requests
 * are refused, so the replica is unhealthy. The `redis` key is there only with REDIS_URL.
 */
export async function dashboardHealth(store: DashboardStore, redis?: RedisHealth, now = Date.now()) {
  const timestamp = isoTime(now)
  const database = await store.logCounts(now - 24 * HOUR).then(
    ({ total, recent }) => ({ connected: true, totalLogs: total, recentLogs: recent }),
    (error) => {
      console.error('dashboard health: the database did not answer:', (error as Error).message)
      return { connected: false, totalLogs: 0, recentLogs: 0 }
    },
  )
  const healthy = database.connected && (!redis || redis.up || redis.failure === 'local')
  return {
    status: healthy ? ('healthy' as const) : ('unhealthy' as const),
    timestamp,
    database,
    ...(redis && { redis: { configured: true, up: redis.up } }),
  }
}
