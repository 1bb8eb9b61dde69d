// The admin API (admin role only): users, request logs, feedback; the threat log is
// composed in from the threats feature. Every list is bounded and keyset-paged.
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import { parseDate } from '../http/dates'
import { HttpError } from '../http/errors'
import { integerCursor, oneOf, pageLimit, withCursor } from '../http/schema'
import type { Runtime } from '../runtime'
import { OUTCOMES } from '../telemetry/facts'
import { threatRoutes } from '../threats/routes'
import { findLog, findUser, listFeedback, listLogs, listUsers, setUserActive, setUserRole } from './store'

const isoDate = t.String({ format: 'date-time' })

function millis(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDate(value)
  if (Number.isNaN(ms)) throw new HttpError(400, `Invalid query field '${field}': expected an ISO date`)
  return ms
}

export const admin = (rt: Runtime) =>
  new Elysia({ name: 'admin', prefix: '/api/admin' })
    .use(authGuard(rt))
    .get(
      '/users',
      async ({ query }) => {
        const size = query.limit ?? 50
        return withCursor(await listUsers(rt.db, { ...query, before: query.cursor, limit: size }), size)
      },
      {
        auth: 'admin',
        query: t.Object({
          search: t.Optional(t.String({ maxLength: 200 })),
          role: t.Optional(oneOf(['admin', 'user'] as const)),
          active: t.Optional(t.Boolean({ error: 'active must be true or false' })),
          limit: pageLimit,
          cursor: t.Optional(t.String()),
        }),
        detail: { summary: 'List users, newest first; search matches email or name (admin)', tags: ['admin'] },
      },
    )
    .patch(
      '/users/:id',
      async ({ params, body, principal }) => {
        const user = await findUser(rt.db, params.id)
        if (!user) throw new HttpError(404, 'No user has this id')
        if (user.id === principal.userId && (body.role === 'user' || body.isActive === false))
          throw new HttpError(409, 'Admins cannot demote or deactivate themselves')
        if (body.role) await setUserRole(rt.db, user.id, body.role)
        if (body.isActive !== undefined) await setUserActive(rt.db, user.id, body.isActive)
        return (await findUser(rt.db, user.id))!
      },
      {
        auth: 'admin',
        params: t.Object({ id: t.String() }),
        body: t.Object(
          { role: t.Optional(oneOf(['admin', 'user'] as const)), isActive: t.Optional(t.Boolean()) },
          { minProperties: 1, additionalProperties: false },
        ),
        detail: {
          summary: 'Change a user’s role or activate/deactivate them; deactivation revokes their sessions and keys (admin)',
          tags: ['admin'],
        },
      },
    )
    .get(
      '/logs',
      async ({ query }) => {
        const size = query.limit ?? 50
        const items = await listLogs(rt.db, {
          userId: query.userId,
          model: query.model,
          status: query.status,
          outcome: query.outcome,
          from: millis(query.from, 'from'),
          to: millis(query.to, 'to'),
          before: query.cursor,
          limit: size,
        })
        return withCursor({ items }, size)
      },
      {
        auth: 'admin',
        query: t.Object({
          userId: t.Optional(t.String()),
          model: t.Optional(t.String()),
          status: t.Optional(t.Integer({ minimum: 100, maximum: 599, error: 'status must be an HTTP status from 100 to 599' })),
          outcome: t.Optional(oneOf(OUTCOMES)),
          from: t.Optional(isoDate),
          to: t.Optional(isoDate),
          limit: pageLimit,
          cursor: integerCursor,
        }),
        detail: { summary: 'Request logs, newest first, filtered (admin)', tags: ['admin'] },
      },
    )
    .get(
      '/logs/:id',
      async ({ params }) => {
        const log = await findLog(rt.db, params.id)
        if (!log) throw new HttpError(404, 'No request log has this id')
        return log
      },
      { auth: 'admin', params: t.Object({ id: t.Integer({ minimum: 1, error: 'id must be a positive integer' }) }), detail: { summary: 'One request log (admin)', tags: ['admin'] } },
    )
    .get(
      '/feedback',
      async ({ query }) => {
        const size = query.limit ?? 50
        return withCursor(await listFeedback(rt.db, { rating: query.rating, before: query.cursor, limit: size }), size)
      },
      {
        auth: 'admin',
        query: t.Object({
          rating: t.Optional(t.Integer({ minimum: 1, maximum: 5, error: 'rating must be an integer from 1 to 5' })),
          limit: pageLimit,
          cursor: integerCursor,
        }),
        detail: { summary: 'Feedback with ratings and comments, newest first (admin)', tags: ['admin'] },
      },
    )
    .use(threatRoutes(rt))
