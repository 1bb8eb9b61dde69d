// Budgets (../stores/budgets.ts) on SQLite: the budgets and budget_spend tables (migration 0020),
// times in ms. Spend is added through the deferred writes (./deferred.ts): a request's end never
// waits for the write lock.
import type { Database } from 'bun:sqlite'
import type { Budget, BudgetStore, BudgetView, NewBudget, Period } from '../stores/budgets'
import { deferredWrites } from './deferred'

type BudgetRow = {
  id: string
  user_id: string
  api_key_id: string | null
  period: Period
  max_cost: number | null
  max_tokens: number | null
  created_at: number
  updated_at: number
}

type ViewRow = BudgetRow & { email: string; key_name: string | null; key_prefix: string | null; spent_cost: number | null; spent_tokens: number | null }

const budgetOf = (row: BudgetRow): Budget => ({
  id: row.id,
  userId: row.user_id,
  apiKeyId: row.api_key_id,
  period: row.period,
  maxCost: row.max_cost,
  maxTokens: row.max_tokens,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
})

const viewOf = (row: ViewRow): BudgetView => ({
  ...budgetOf(row),
  email: row.email,
  keyName: row.key_name,
  keyPrefix: row.key_prefix,
  spent: { cost: row.spent_cost ?? 0, tokens: row.spent_tokens ?? 0 },
})

const COLUMNS = 'b.id, b.user_id, b.api_key_id, b.period, b.max_cost, b.max_tokens, b.created_at, b.updated_at'

export function sqliteBudgets(db: Database): BudgetStore {
  const applying = db.query<BudgetRow, [string, string]>(`SELECT ${COLUMNS} FROM budgets b WHERE b.user_id = ? AND coalesce(b.api_key_id, ?2) = ?2`)
  const byId = db.query<BudgetRow, [string]>(`SELECT ${COLUMNS} FROM budgets b WHERE b.id = ?`)
  const byHolder = db.query<BudgetRow, [string, string, Period]>(
    `SELECT ${COLUMNS} FROM budgets b WHERE b.user_id = ? AND coalesce(b.api_key_id, '') = ? AND b.period = ?`,
  )
  const insert = db.query(
    'INSERT INTO budgets (id, user_id, api_key_id, period, max_cost, max_tokens, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  )
  const update = db.query('UPDATE budgets SET max_cost = ?, max_tokens = ?, updated_at = ? WHERE id = ?')
  const remove = db.query('DELETE FROM budgets WHERE id = ?')
  const spent = db.query<{ cost: number; tokens: number }, [string, number]>('SELECT cost, tokens FROM budget_spend WHERE budget_id = ? AND window_start = ?')
  const addSpend = db.query(
    // A budget removed while a request of it was in progress: nothing to add to.
    `INSERT INTO budget_spend (budget_id, window_start, cost, tokens) SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM budgets WHERE id = ?1)
     ON CONFLICT (budget_id, window_start) DO UPDATE SET cost = cost + excluded.cost, tokens = tokens + excluded.tokens`,
  )

  const user = db.query<{ id: string }, [string]>('SELECT id FROM users WHERE id = ?')
  const keyOwner = db.query<{ id: string }, [string]>('SELECT user_id AS id FROM api_keys WHERE id = ? AND revoked_at IS NULL')

  const set = db.transaction((budget: NewBudget, now: number) => {
    const { holder } = budget
    const apiKeyId = 'apiKeyId' in holder ? holder.apiKeyId : null
    const userId = ('userId' in holder ? user.get(holder.userId) : keyOwner.get(holder.apiKeyId))?.id
    if (userId === undefined) return undefined
    const found = byHolder.get(userId, apiKeyId ?? '', budget.period)
    const before = found ? budgetOf(found) : undefined
    if (before) update.run(budget.maxCost, budget.maxTokens, now, before.id)
    else insert.run(Bun.randomUUIDv7(), userId, apiKeyId, budget.period, budget.maxCost, budget.maxTokens, now, now)
    return { budget: budgetOf(byHolder.get(userId, apiKeyId ?? '', budget.period)!), before }
  })

  return {
    async applying(userId, apiKeyId) {
      return applying.all(userId, apiKeyId ?? '').map(budgetOf)
    },
    async get(id) {
      const row = byId.get(id)
      return row ? budgetOf(row) : undefined
    },
    async set(budget, now) {
      return set.immediate(budget, now)
    },
    async remove(id) {
      const row = byId.get(id)
      if (row) remove.run(id)
      return row ? budgetOf(row) : undefined
    },
    async list(filter, windows) {
      const where: string[] = []
      const params: (string | number)[] = [windows.day, windows.month]
      const condition = (sql: string, value: string | undefined) => {
        if (value === undefined) return
        where.push(sql)
        params.push(value)
      }
      condition('b.id = ?', filter.id)
      condition('b.user_id = ?', filter.userId)
      condition('b.api_key_id = ?', filter.apiKeyId)
      condition('b.id < ?', filter.beforeId)
      params.push(filter.limit)
      const rows = db
        .query<ViewRow, (string | number)[]>(
          `SELECT ${COLUMNS}, u.email, k.name AS key_name, k.prefix AS key_prefix, s.cost AS spent_cost, s.tokens AS spent_tokens
           FROM budgets b JOIN users u ON u.id = b.user_id LEFT JOIN api_keys k ON k.id = b.api_key_id
           LEFT JOIN budget_spend s ON s.budget_id = b.id
             AND s.window_start = CASE b.period WHEN 'day' THEN ?1 WHEN 'month' THEN ?2 ELSE 0 END
           ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY b.id DESC LIMIT ?`,
        )
        .all(...params)
      return rows.map(viewOf)
    },
    async spent(budgetId, windowStart) {
      return spent.get(budgetId, windowStart) ?? { cost: 0, tokens: 0 }
    },
    addSpend(budgetId, windowStart, spend) {
      deferredWrites(db).add(() => addSpend.run(budgetId, windowStart, spend.cost, spend.tokens))
    },
  }
}
