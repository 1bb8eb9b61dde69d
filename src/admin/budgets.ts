// The admin's routes for budgets (mounted under /api/admin, admin role only): every budget with
// what it spent in its current window, and setting or removing a user's or an API key's budget
// for a period. What budgets do is in src/budgets/; the routes live here as the audit's do.
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import { originOf } from '../audit/service'
import { PERIODS, type BudgetHolder } from '../db/stores/budgets'
import { integer, oneOf, pageLimit, withCursor } from '../http/schema'
import type { Runtime } from '../runtime'
import { budgetsPage, removeBudget, setBudget } from '../budgets/service'

const PAGE_SIZE = 50
const tags = ['admin']

/** Past this a figure is a typo, not a budget (tokens stay exact as JSON numbers far beyond it). */
const MAX_LIMIT = 1e12

const limits = t.Object(
  {
    maxCost: t.Union([t.Number({ minimum: 0, maximum: MAX_LIMIT }), t.Null()], {
      error: `maxCost must be a number from 0 to ${MAX_LIMIT} (in MODEL_PRICES' currency), or null for no cost limit`,
    }),
    maxTokens: t.Union([integer({ minimum: 0, maximum: MAX_LIMIT }), t.Null()], {
      error: `maxTokens must be an integer from 0 to ${MAX_LIMIT}, or null for no token limit`,
    }),
  },
  { additionalProperties: false, description: 'at least one of the two is a number' },
)

const period = t.Object({ id: t.String({ maxLength: 200 }), period: oneOf(PERIODS) })

const setDetail = (whose: string) => ({
  summary: `Set ${whose} budget for a period (day, month or total), in cost and/or tokens (admin)`,
  description:
    'Creates the budget, or changes it in place (what it spent is kept). `day` and `month` windows are UTC days and months; `total` never resets. ' +
    "Each request reserves its worst case (its max_tokens, capped by MAX_OUTPUT_TOKENS, and its prompt, at the model's price) before it calls " +
    'the model and settles to what it used when it ends; a request that would pass a budget is refused with 429 `insufficient_quota`.',
  tags,
})

export const budgetRoutes = (rt: Runtime) => {
  const set = (holder: BudgetHolder, context: Parameters<typeof originOf>[1] & { principal: { userId: string; email: string } }, params: typeof period.static, body: typeof limits.static) =>
    setBudget(rt, originOf(rt, context, context.principal), holder, params.period, body)
  return new Elysia({ name: 'admin-budgets' })
    .use(authGuard(rt))
    .get(
      '/budgets',
      async ({ query }) => {
        const size = query.limit ?? PAGE_SIZE
        const { limit: _limit, cursor, ...filter } = query
        return withCursor({ items: await budgetsPage(rt, { ...filter, beforeId: cursor, limit: size }) }, size)
      },
      {
        auth: 'admin',
        query: t.Object({
          userId: t.Optional(t.String({ maxLength: 200 })),
          apiKeyId: t.Optional(t.String({ maxLength: 200 })),
          limit: pageLimit,
          cursor: t.Optional(t.String({ maxLength: 200 })),
        }),
        detail: {
          summary: 'Budgets, newest first, each with what its current window spent, what is left and when it resets (admin)',
          description: 'Filters: `userId` (the user’s own budgets and their keys’), `apiKeyId`. Pages: `limit` and `cursor` (the `nextCursor` of the page before).',
          tags,
        },
      },
    )
    .put('/users/:id/budgets/:period', (context) => set({ userId: context.params.id }, context, context.params, context.body), {
      auth: 'admin',
      params: period,
      body: limits,
      detail: setDetail('a user’s (all their requests, whichever credential)'),
    })
    .put('/keys/:id/budgets/:period', (context) => set({ apiKeyId: context.params.id }, context, context.params, context.body), {
      auth: 'admin',
      params: period,
      body: limits,
      detail: setDetail('an API key’s (its requests only, besides its user’s budget)'),
    })
    .delete(
      '/budgets/:id',
      async (context) => {
        await removeBudget(rt, originOf(rt, context, context.principal), context.params.id)
        context.set.status = 204
      },
      {
        auth: 'admin',
        params: t.Object({ id: t.String({ maxLength: 200 }) }),
        detail: { summary: 'Remove a budget and what it spent (admin)', tags },
      },
    )
}
