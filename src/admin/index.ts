// The admin API's routes (admin role only): users, request logs, feedback, the threat log
// (./threats.ts) and the audit trail (./audit.ts). What the routes do is in ./service.ts; every
// list is bounded and keyset-paged.
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import { integer, integerCursor, oneOf, pageLimit } from '../http/schema'
import type { Runtime } from '../runtime'
import { APIS } from '../telemetry/apis'
import { OUTCOMES } from '../telemetry/facts'
import { changeKey, changeUser, deleteUser, feedbackPage, logById, logsPage, usersPage } from './service'
import { KeyRateLimitsSchema, TokensPerMinuteSchema } from '../keys/model'
import { threatRoutes } from './threats'
import { adminKeyRoutes } from './keys'
import { auditRoutes } from './audit'
import { budgetRoutes } from './budgets'
import { originOf } from '../audit/service'

const isoDate = t.String({ format: 'date-time' })

/** A cap on requests in progress an admin sets: a count, 0 for none, or null for the server's setting. */
const concurrencyCap = t.Union([integer({ minimum: 0, maximum: 100_000 }), t.Null()], {
  error: 'maxConcurrentRequests must be an integer from 0 (no cap) to 100000, or null (the server\'s MAX_CONCURRENT_REQUESTS)',
})

export const admin = (rt: Runtime) =>
  new Elysia({ name: 'admin', prefix: '/api/admin' })
    .use(authGuard(rt))
    .get(
      '/users',
      ({ query }) => usersPage(rt, query),
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
    .delete(
      '/users/:id',
      async (context) => {
        await deleteUser(rt, originOf(rt, context, context.principal), context.params.id)
        context.set.status = 204
      },
      {
        auth: 'admin',
        params: t.Object({ id: t.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$', error: 'id must be a user id' }) }),
        detail: {
          summary: 'Delete a user with their sessions, API keys, feedback, conversations and stored responses; never yourself nor the last active admin (admin)',
          description:
            'Their tokens and keys stop working at once on every replica. Request logs and audit entries stay (history): they keep the ' +
            'user’s id, which no longer names an account; the `user.deleted` audit entry records whose it was (email, name, role).',
          tags: ['admin'],
        },
      },
    )
    .patch(
      '/users/:id',
      (context) => changeUser(rt, originOf(rt, context, context.principal), context.params.id, context.body),
      {
        auth: 'admin',
        params: t.Object({ id: t.String() }),
        body: t.Object(
          { role: t.Optional(oneOf(['admin', 'user'] as const)), isActive: t.Optional(t.Boolean()), maxConcurrentRequests: t.Optional(concurrencyCap) },
          { minProperties: 1, additionalProperties: false },
        ),
        detail: {
          summary: 'Change a user’s role, activate/deactivate them (deactivation revokes their sessions and keys), or set their cap on requests in progress (null: MAX_CONCURRENT_REQUESTS; 0: none) (admin)',
          tags: ['admin'],
        },
      },
    )
    .patch('/keys/:id', (context) => changeKey(rt, originOf(rt, context, context.principal), context.params.id, context.body), {
      auth: 'admin',
      params: t.Object({ id: t.String() }),
      body: t.Object(
        {
          maxConcurrentRequests: t.Optional(concurrencyCap),
          rateLimits: t.Optional(t.Union([KeyRateLimitsSchema, t.Null()], { error: KeyRateLimitsSchema.error })),
          tokensPerMinute: t.Optional(t.Union([TokensPerMinuteSchema, t.Null()], { error: TokensPerMinuteSchema.error })),
        },
        { minProperties: 1, additionalProperties: false },
      ),
      detail: {
        summary: 'Set an API key’s own cap on requests in progress, its own requests per minute per group and its tokens per minute, besides its user’s (null clears one; those left out are kept) (admin)',
        tags: ['admin'],
      },
    })
    .get(
      '/logs',
      ({ query }) => logsPage(rt, query),
      {
        auth: 'admin',
        query: t.Object({
          userId: t.Optional(t.String()),
          model: t.Optional(t.String()),
          api: t.Optional(oneOf(APIS)),
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
      ({ params }) => logById(rt, params.id),
      { auth: 'admin', params: t.Object({ id: t.Integer({ minimum: 1, error: 'id must be a positive integer' }) }), detail: { summary: 'One request log (admin)', tags: ['admin'] } },
    )
    .get(
      '/feedback',
      ({ query }) => feedbackPage(rt, query),
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
    .use(adminKeyRoutes(rt))
    .use(auditRoutes(rt))
    .use(budgetRoutes(rt))
