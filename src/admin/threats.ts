// The admin's routes for the threat log (mounted under /api/admin): list, filtered and paged
// newest first; resolve. Admin routes, so they live here: the threats feature knows no guard.
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import { integerCursor, oneOf, pageLimit } from '../http/schema'
import type { Runtime } from '../runtime'
import { SEVERITIES, THREAT_TYPES } from '../threats/store'
import { resolveThreatAs, threatsPage } from './service'
import { originOf } from '../audit/service'

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
      ({ query }) => threatsPage(rt, query),
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
      (context) => resolveThreatAs(rt, context.params.id, context.principal.email, originOf(rt, context, context.principal)),
      {
        auth: 'admin',
        params: t.Object({ id: t.Integer({ minimum: 1, error: 'id must be a positive integer' }) }),
        response: threat,
        detail: { summary: 'Mark a threat resolved (admin)', tags: ['admin'] },
      },
    )
