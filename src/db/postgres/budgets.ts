// Budgets (../stores/budgets.ts) on PostgreSQL: the budgets and budget_spend tables (migration
// 0020), times as timestamptz. Spend is added in the background (./background.ts) as one atomic
// upsert, so any number of replicas add to the same row without losing an addition.
import type { SQL } from 'bun'
import type { Budget, BudgetStore, BudgetView, Period } from '../stores/budgets'
import type { BackgroundWrites } from './background'

type BudgetRow = {
  id: string
  user_id: string
  api_key_id: string | null
  period: Period
  max_cost: number | null
  max_tokens: string | null
  created_at: Date
  updated_at: Date
}

type ViewRow = BudgetRow & { email: string; key_name: string | null; key_prefix: string | null; spent_cost: number | null; spent_tokens: string | null }

const budgetOf = (row: BudgetRow): Budget => ({
  id: row.id,
  userId: row.user_id,
  apiKeyId: row.api_key_id,
  period: row.period,
  maxCost: row.max_cost === null ? null : Number(row.max_cost),
  maxTokens: row.max_tokens === null ? null : Number(row.max_tokens),
  createdAt: row.created_at.getTime(),
  updatedAt: row.updated_at.getTime(),
})

const viewOf = (row: ViewRow): BudgetView => ({
  ...budgetOf(row),
  email: row.email,
  keyName: row.key_name,
  keyPrefix: row.key_prefix,
  spent: { cost: Number(row.spent_cost ?? 0), tokens: Number(row.spent_tokens ?? 0) },
})

export function postgresBudgets(sql: SQL, background: BackgroundWrites): BudgetStore {
  const columns = sql`b.id, b.user_id, b.api_key_id, b.period, b.max_cost, b.max_tokens, b.created_at, b.updated_at`
  return {
    async applying(userId, apiKeyId) {
      const rows = await sql<BudgetRow[]>`
        SELECT ${columns} FROM budgets b WHERE b.user_id = ${userId} AND (b.api_key_id IS NULL OR b.api_key_id = ${apiKeyId ?? ''})`
      return rows.map(budgetOf)
    },
    async get(id) {
      const [row] = await sql<BudgetRow[]>`SELECT ${columns} FROM budgets b WHERE b.id = ${id}`
      return row ? budgetOf(row) : undefined
    },
    async set(budget, now) {
      const { holder } = budget
      const apiKeyId = 'apiKeyId' in holder ? holder.apiKeyId : null
      return sql.begin(async (tx) => {
        const [owner] = await ('userId' in holder
          ? tx<{ id: string }[]>`SELECT id FROM users WHERE id = ${holder.userId}`
          : tx<{ id: string }[]>`SELECT user_id AS id FROM api_keys WHERE id = ${holder.apiKeyId} AND revoked_at IS NULL`)
        if (!owner) return undefined
        const userId = owner.id
        const [found] = await tx<BudgetRow[]>`
          SELECT ${columns} FROM budgets b
          WHERE b.user_id = ${userId} AND coalesce(b.api_key_id, '') = ${apiKeyId ?? ''} AND b.period = ${budget.period}
          FOR UPDATE`
        // Two admins setting a new budget at once: the second changes the first's.
        const [row] = await tx<BudgetRow[]>`
          INSERT INTO budgets AS b (id, user_id, api_key_id, period, max_cost, max_tokens, created_at, updated_at)
          VALUES (${Bun.randomUUIDv7()}, ${userId}, ${apiKeyId}, ${budget.period}, ${budget.maxCost}, ${budget.maxTokens}, ${new Date(now)}, ${new Date(now)})
          ON CONFLICT (user_id, coalesce(api_key_id, ''), period)
            DO UPDATE SET max_cost = excluded.max_cost, max_tokens = excluded.max_tokens, updated_at = excluded.updated_at
          RETURNING ${columns}`
        return { budget: budgetOf(row!), before: found ? budgetOf(found) : undefined }
      })
    },
    async remove(id) {
      const [row] = await sql<BudgetRow[]>`DELETE FROM budgets b WHERE b.id = ${id} RETURNING ${columns}`
      return row ? budgetOf(row) : undefined
    },
    async list(filter, windows) {
      const rows = await sql<ViewRow[]>`
        SELECT ${columns}, u.email, k.name AS key_name, k.prefix AS key_prefix, s.cost AS spent_cost, s.tokens AS spent_tokens
        FROM budgets b JOIN users u ON u.id = b.user_id LEFT JOIN api_keys k ON k.id = b.api_key_id
        LEFT JOIN budget_spend s ON s.budget_id = b.id
          AND s.window_start = CASE b.period WHEN 'day' THEN ${new Date(windows.day)}::timestamptz
                                             WHEN 'month' THEN ${new Date(windows.month)}::timestamptz
                                             ELSE to_timestamp(0) END
        WHERE true
          ${filter.id !== undefined ? sql`AND b.id = ${filter.id}` : sql``}
          ${filter.userId !== undefined ? sql`AND b.user_id = ${filter.userId}` : sql``}
          ${filter.apiKeyId !== undefined ? sql`AND b.api_key_id = ${filter.apiKeyId}` : sql``}
          ${filter.beforeId !== undefined ? sql`AND b.id < ${filter.beforeId}` : sql``}
        ORDER BY b.id DESC LIMIT ${filter.limit}`
      return rows.map(viewOf)
    },
    async spent(budgetId, windowStart) {
      const [row] = await sql<{ cost: number; tokens: string }[]>`
        SELECT cost, tokens FROM budget_spend WHERE budget_id = ${budgetId} AND window_start = ${new Date(windowStart)}`
      return row ? { cost: Number(row.cost), tokens: Number(row.tokens) } : { cost: 0, tokens: 0 }
    },
    addSpend(budgetId, windowStart, spend) {
      background.add(
        () => sql`
          INSERT INTO budget_spend (budget_id, window_start, cost, tokens)
          SELECT ${budgetId}, ${new Date(windowStart)}, ${spend.cost}, ${spend.tokens}
          WHERE EXISTS (SELECT 1 FROM budgets WHERE id = ${budgetId})
          ON CONFLICT (budget_id, window_start)
            DO UPDATE SET cost = budget_spend.cost + excluded.cost, tokens = budget_spend.tokens + excluded.tokens`,
        'budget spend',
      )
    },
  }
}
