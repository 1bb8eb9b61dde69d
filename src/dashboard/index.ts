// The dashboard API: analytics for a time range (admins: everyone; users: their own) and a
// public health check (the database, and Redis with REDIS_URL). Reads flush the request log
// first, so a caller sees its own requests.
import { Elysia } from 'elysia'
import { authGuard } from '../auth/guard'
import { rateLimits } from '../ratelimit'
import type { Runtime } from '../runtime'
import { redisOf } from '../shared/redis'
import { logWriter } from '../telemetry/writer'
import { dashboardQuery, dashboardResponse, healthResponse } from './model'
import { resolveWindow } from './range'
import { buildDashboard, dashboardHealth, type RedisHealth } from './service'

/**
 * Redis, with REDIS_URL: asked afresh while it counts as up (a connection lost since its last
 * command shows at once); while down, its own probe is asking (shared/redis.ts), so it is not.
 */
async function redisHealth(rt: Runtime): Promise<RedisHealth | undefined> {
  const link = redisOf(rt)
  if (!link) return undefined
  const up = link.up && (await link.send('PING', []).then(() => true, () => false))
  return { up, failure: rt.config.redis!.failure }
}

export const dashboard = (rt: Runtime) => {
  const log = logWriter(rt)
  return new Elysia({ name: 'dashboard', prefix: '/api/dashboard' })
    .use(authGuard(rt))
    .use(rateLimits(rt))
    .get(
      '',
      async ({ query, principal }) => {
        const window = resolveWindow(query)
        await log.flush()
        return buildDashboard(rt.store.dashboard, principal, window)
      },
      {
        auth: true,
        rateLimit: 'dashboard',
        query: dashboardQuery,
        response: dashboardResponse,
        detail: {
          summary: 'Analytics for a time range',
          description:
            'range = 24h (hourly buckets), 7d, 1m, 3m (daily buckets) or custom (start and end, ISO 8601, at most one year; daily buckets). Admins see all traffic, other users their own.',
          tags: ['dashboard'],
        },
      },
    )
    .get(
      '/health',
      async ({ set }) => {
        const health = await dashboardHealth(rt.store.dashboard, await redisHealth(rt))
        if (health.status !== 'healthy') set.status = 503
        return health
      },
      { response: { 200: healthResponse, 503: healthResponse }, detail: { summary: 'Dashboard health', tags: ['dashboard'], security: [] } },
    )
}
