// The dashboard's request and response schemas: the shape docs/dashboard-api.md describes, key for key.
import { t } from 'elysia'
import { rangeNames } from './range'

export const dashboardQuery = t.Object({
  range: t.Optional(
    t.UnionEnum(rangeNames, { error: `must be one of ${rangeNames.join(', ')}`, default: '24h' }),
  ),
  start: t.Optional(t.String({ description: 'ISO 8601 date or date-time; required for range=custom' })),
  end: t.Optional(t.String({ description: 'ISO 8601 date or date-time (exclusive); required for range=custom' })),
})

const timestamp = t.String({ format: 'date-time' })

export const dashboardResponse = t.Object({
  range: t.UnionEnum(rangeNames),
  generatedAt: timestamp,
  requests: t.Array(t.Object({ timestamp, success: t.Integer(), error: t.Integer() })),
  errorsBreakdown: t.Array(t.Object({ label: t.String(), value: t.Integer() })),
  topModels: t.Array(t.Object({ name: t.String(), requests: t.Integer() })),
  costs: t.Array(t.Object({ timestamp, cost: t.Number() })),
  topCountries: t.Array(t.Object({ name: t.String(), requests: t.Integer() })),
  latency: t.Array(t.Object({ timestamp, latency: t.Number({ description: 'average, in seconds' }) })),
  summary: t.Object({
    totalRequests: t.Integer(),
    successfulRequests: t.Integer(),
    avgLatencyMs: t.Number(),
    totalCost: t.Number(),
    totalTokens: t.Integer(),
    avgTokensPerRequest: t.Number(),
    avgCostPerRequest: t.Number(),
    // Beside docs/dashboard-api.md's keys (adding a key is safe for the frontend): the response cache.
    cache: t.Object({
      hits: t.Integer({ description: 'chat completions answered from the response cache' }),
      hitRate: t.Number({ description: 'hits / chat completions, 0 to 1, 4 decimals' }),
      costSaved: t.Number({ description: 'what the hits would have cost at MODEL_PRICES, dollars, 6 decimals' }),
    }),
  }),
  users: t.Object({
    activeUsers: t.Integer(),
    totalSessions: t.Integer(),
    avgSessionCost: t.Number(),
    avgSessionRequests: t.Number(),
  }),
  feedback: t.Object({
    totalFeedback: t.Integer(),
    avgRating: t.Number(),
    ratingDistribution: t.Object({ '1': t.Integer(), '2': t.Integer(), '3': t.Integer(), '4': t.Integer(), '5': t.Integer() }),
  }),
  threats: t.Object({
    totalThreats: t.Integer(),
    unresolvedThreats: t.Integer(),
    criticalThreats: t.Integer(),
    highThreats: t.Integer(),
    topThreatTypes: t.Array(t.Object({ type: t.String(), count: t.Integer() })),
  }),
})

export type Dashboard = typeof dashboardResponse.static

export const healthResponse = t.Object({
  status: t.Union([t.Literal('healthy'), t.Literal('unhealthy')]),
  timestamp,
  database: t.Object({ connected: t.Boolean(), totalLogs: t.Integer(), recentLogs: t.Integer() }),
  /** With REDIS_URL only: whether Redis answers (without it each replica counts its limits alone). */
  redis: t.Optional(t.Object({ configured: t.Boolean(), up: t.Boolean() })),
})
