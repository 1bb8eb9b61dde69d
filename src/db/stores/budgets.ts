// The store of budgets (src/budgets/): what a user, or one of their API keys, may spend per day,
// per month or in total, in cost and/or tokens, and what each budget has spent in each window.
// Spend is added as requests end; reservations of requests in progress are not stored here (they
// live in memory or Redis: src/budgets/ledger.ts). Times in ms.

export const PERIODS = ['day', 'month', 'total'] as const
export type Period = (typeof PERIODS)[number]

/** Money and tokens together: what a budget allows, has spent, or a request may spend. */
export type Spend = { cost: number; tokens: number }

export type Budget = {
  id: string
  /** Whose budget it is; a key's budget names the key's user too. */
  userId: string
  /** Set for a key's budget; null for the user's (all their requests, whatever the credential). */
  apiKeyId: string | null
  period: Period
  /** At most this much cost (in MODEL_PRICES' currency) per window; null: cost is not limited. */
  maxCost: number | null
  /** At most this many tokens (prompt + completion) per window; null: tokens are not limited. */
  maxTokens: number | null
  createdAt: number
  updatedAt: number
}

/** A budget as admins and its user see it: its holder named, and what it spent in its current window. */
export type BudgetView = Budget & {
  email: string
  keyName: string | null
  keyPrefix: string | null
  spent: Spend
}

/** Whose budget: a user's (all their requests), or one live API key's. */
export type BudgetHolder = { userId: string } | { apiKeyId: string }

export type NewBudget = Pick<Budget, 'period' | 'maxCost' | 'maxTokens'> & { holder: BudgetHolder }

/** The start of each period's current window (ms; `total`'s is 0). */
export type CurrentWindows = Record<Period, number>

export type BudgetFilter = {
  id?: string
  userId?: string
  apiKeyId?: string
  /** Keyset cursor: budgets with an id below this one (ids grow with time: newest first). */
  beforeId?: string
  limit: number
}

export interface BudgetStore {
  /** The budgets a request of the user, made with this key (or none), counts against: the user's and the key's. */
  applying(userId: string, apiKeyId: string | null): Promise<Budget[]>
  get(id: string): Promise<Budget | undefined>
  /**
   * Sets the holder's budget for the period: a new one, or the one it has changed in place (its
   * spend kept). Undefined when there is no such user, or no such key that is not revoked.
   */
  set(budget: NewBudget, now: number): Promise<{ budget: Budget; before: Budget | undefined } | undefined>
  /** Removes the budget and its spend; returns what it was. */
  remove(id: string): Promise<Budget | undefined>
  /** Budgets, newest first, each with what it spent in its current window. */
  list(filter: BudgetFilter, windows: CurrentWindows): Promise<BudgetView[]>
  /** What the budget spent in the window starting at `windowStart`. */
  spent(budgetId: string, windowStart: number): Promise<Spend>
  /**
   * Adds to what the budget spent in the window, in the background (a request's end must not wait
   * for it); the store's `close` waits for every such write.
   */
  addSpend(budgetId: string, windowStart: number, spend: Spend): void
}
