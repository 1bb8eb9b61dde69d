// Admin endpoints of the threat log (mounted under /api/admin): list, filtered and paged newest first; resolve.
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import { HttpError } from '../http/errors'
import { integerCursor, oneOf, pageLimit, withCursor } from '../http/schema'
import type { Runtime } from '../runtime'
import { listThreats, resolveThreat, SEVERITIES, THREAT_TYPES } from './store'

const threat = t.Object({
  id: t.Integer(),
  type: t.String(),
  severity: oneOf(SEVERITIES),
  principal: t.Nullable(t.Object({ userId: t.String(), apiKeyId: t.Nullable(t.String()) })),
  address: t.Nullable(t.String()),
  detail: t.String(),
  createdAt: t.String({ format: 'date-time' }),
  resolved: t.Boolean(),
  resolvedBy: t.Nullable(t.String()),
  resolvedAt: t.Nullable(t.String({ format: 'date-time' })),
})

export const threatRoutes = (rt: Runtime) =>
  new Elysia({ name: 'threats', prefix: '/threats' })
    .use(authGuard(rt))
    .get(
      '',
      async ({ query }) => {
        const limit = query.limit ?? 50
        const page = await listThreats(rt.db, {
          type: query.type,
          severity: query.severity,
          resolved: query.resolved,
          beforeId: query.cursor,
          limit,
        })
        return withCursor(page, limit)
      },
      {
        auth: 'admin',
        query: t.Object({
          type: t.Optional(oneOf(THREAT_TYPES)),
          severity: t.Optional(oneOf(SEVERITIES)),
          resolved: t.Optional(t.Boolean({ error: 'resolved must be true or false' })),
          limit: pageLimit,
          cursor: integerCursor,
        }),
        response: t.Object({ items: t.Array(threat), total: t.Integer(), nextCursor: t.Nullable(t.Integer()) }),
        detail: { summary: 'List threats, newest first (admin)', tags: ['admin'] },
      },
    )
    .post(
      '/:id/resolve',
      async ({ params, principal }) => {
        const resolved = await resolveThreat(rt.db, params.id, principal.email)
        if (!resolved) throw new HttpError(404, 'No threat has this id')
        return resolved
      },
      {
        auth: 'admin',
        params: t.Object({ id: t.Integer({ minimum: 1, error: 'id must be a positive integer' }) }),
        response: threat,
        detail: { summary: 'Mark a threat resolved (admin)', tags: ['admin'] },
      },
    )
