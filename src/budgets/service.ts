// Budgets: what a user, or one of their API keys, may spend per day, per month or in total, in
// cost and/or tokens. Before a request calls a model it reserves its worst case against every
// budget it counts against (its user's and its key's); past one, it is refused with OpenAI's 429
// `insufficient_quota`, naming the budget and when it resets. When the request ends, however it
// ends, the reservation is replaced by what it really spent (a cancelled stream spends what was
// generated). The counting is the ledger's (./ledger.ts: memory, or Redis across replicas); the
// budgets themselves are read through a cache forgotten at once by every change.
import type { Principal } from '../auth/principal'
import { forgetOnEveryReplica, userCache } from '../auth/principal-cache'
import { recordAudit, type AuditOrigin } from '../audit/service'
import type { Budget, BudgetFilter, BudgetHolder, BudgetView, Period, Spend } from '../db/stores/budgets'
import { DAY } from '../http/dates'
import { HttpError } from '../http/errors'
import { iso } from '../http/schema'
import { perRuntime, type Runtime } from '../runtime'
import { redisOf } from '../shared/redis'
import { pricesOf } from '../telemetry/prices'
import { memoryLedger, redisLedger, type Account } from './ledger'

const CHANNEL = 'budgets:changed'
const budgetCacheOf = userCache(CHANNEL)

/** The runtime's one ledger: on Redis with REDIS_URL (shared by every replica), else in memory. */
const ledgerOf = perRuntime((rt) => {
  const link = redisOf(rt)
  return link ? redisLedger(link, rt.config.redis!.failure, rt.store.budgets) : memoryLedger(rt.store.budgets)
})

/** The window of a period that holds `now` (UTC days and months): its start, and its end (null: never). */
export function windowOf(period: Period, now: number): { start: number; end: number | null } {
  if (period === 'total') return { start: 0, end: null }
  const date = new Date(now)
  const [year, month] = [date.getUTCFullYear(), date.getUTCMonth()]
  if (period === 'month') return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) }
  const start = Date.UTC(year, month, date.getUTCDate())
  return { start, end: start + DAY }
}

const currentWindows = (now: number) => ({ day: windowOf('day', now).start, month: windowOf('month', now).start, total: 0 })

/** The budgets a request of this principal counts against, remembered for at most a second. */
async function budgetsOf(rt: Runtime, principal: Principal): Promise<Budget[]> {
  const { userId } = principal
  const apiKeyId = principal.apiKeyId ?? null
  const found = await budgetCacheOf(rt).remember(
    `${userId}:${apiKeyId ?? ''}`,
    async () => ({ userId, budgets: await rt.store.budgets.applying(userId, apiKeyId) }),
    () => true,
  )
  return found!.budgets
}

/** What a request may use at most, as its route reads it from the body before calling the model. */
export type WorstCase = { model: string; inputTokens: number; outputTokens: number; images: number }

/** Gives back what a reservation did not use: called once the request is over, with the request's real use. */
export type Settle = (actual: { model: string | undefined; promptTokens: number; completionTokens: number; images: number; cached: boolean }) => Promise<void>

const NOTHING: Spend = { cost: 0, tokens: 0 }

/**
 * Reserves the request's worst case against each budget it counts against, or throws the 429 of
 * the first it would pass (the others' reservations given back). Undefined when no budget applies;
 * the worst case and the audit's origin are worked out only when one does.
 */
export async function reserveBudgets(rt: Runtime, principal: Principal, worstCaseOf: () => WorstCase, originOf: () => AuditOrigin): Promise<Settle | undefined> {
  const budgets = await budgetsOf(rt, principal)
  if (!budgets.length) return undefined
  const worstCase = worstCaseOf()
  const priceOf = pricesOf(rt)
  const worst: Spend = {
    cost: priceOf(worstCase.model, worstCase.inputTokens, worstCase.outputTokens, worstCase.images),
    tokens: worstCase.inputTokens + worstCase.outputTokens,
  }
  const ledger = ledgerOf(rt)
  const now = Date.now()
  const settles: ((actual: Spend) => Promise<void>)[] = []
  // Whatever stops the loop (a refusal, Redis lost under REDIS_FAILURE=closed, a database error)
  // gives back what it had reserved: a reservation never outlives its request.
  const giveBack = () => Promise.all(settles.map((settle) => settle(NOTHING)))
  for (const budget of budgets) {
    const window = windowOf(budget.period, now)
    const account: Account = { budgetId: budget.id, windowStart: window.start, windowEnd: window.end, maxCost: budget.maxCost, maxTokens: budget.maxTokens }
    const hold = await ledger.reserve(account, worst).catch(async (error) => {
      await giveBack()
      throw error
    })
    if (hold.held) {
      settles.push(hold.settle)
      continue
    }
    await giveBack()
    const used = hold.over === 'cost' ? hold.spent.cost : hold.spent.tokens
    if (hold.first)
      recordAudit(rt, originOf(), {
        action: 'budget.exhausted',
        targetType: 'budget',
        targetId: budget.id,
        after: { ...describe(budget), windowStart: iso(window.start), spent: hold.spent, reserved: hold.reserved },
      })
    throw overBudget(budget, hold.over, used, used + (hold.over === 'cost' ? hold.reserved.cost + worst.cost : hold.reserved.tokens + worst.tokens), window.end)
  }
  return async ({ model, promptTokens, completionTokens, images, cached }) => {
    // An answer from the response cache called no model: it spends nothing (as the log prices it).
    const actual = cached ? NOTHING : { cost: priceOf(model, promptTokens, completionTokens, images), tokens: promptTokens + completionTokens }
    await Promise.all(settles.map((settle) => settle(actual)))
  }
}

const PERIOD_NAMES: Record<Period, string> = { day: 'daily', month: 'monthly', total: 'total' }

/** A figure as a message shows it: whole tokens, costs to six significant digits. */
const figure = (value: number) => String(Number(value.toPrecision(6)))

/**
 * The 429 of a request that would pass a budget: names the budget (whose, which period, which
 * limit), what it has left, and when it resets. `spent` is what the window spent; `needed` what
 * it would hold with the requests in progress and this one.
 */
function overBudget(budget: Budget, over: 'cost' | 'tokens', spent: number, needed: number, resetsAt: number | null): HttpError {
  const whose = budget.apiKeyId ? 'This API key’s' : 'Your account’s'
  const limit = over === 'cost' ? budget.maxCost! : budget.maxTokens!
  const unit = over === 'cost' ? 'in cost' : 'tokens'
  const name = `${whose} ${PERIOD_NAMES[budget.period]} budget of ${figure(limit)} ${unit}`
  const used = spent >= limit - 1e-9
  const state = used
    ? `is used up (${figure(spent)} spent)`
    : `has ${figure(limit - spent)} left, less than this request may use with the requests in progress (${figure(needed - spent)}: each request reserves its max_tokens at the model's price, and its prompt, until it ends); lower max_tokens, or retry when requests in progress end`
  const reset = resetsAt === null ? 'It does not reset.' : `It resets at ${iso(resetsAt)}.`
  // Spent alone leaves no room: nothing changes before the reset. Otherwise requests in progress may give some back.
  const retryAfter = used && resetsAt !== null ? Math.ceil((resetsAt - Date.now()) / 1000) : used ? undefined : 1
  return new HttpError(429, `${name} ${state}. ${reset}`, {
    code: 'insufficient_quota',
    type: 'insufficient_quota',
    ...(retryAfter !== undefined ? { headers: { 'retry-after': String(Math.max(1, retryAfter)) } } : {}),
  })
}

/** The budget's settings, as audit entries show them. */
const describe = (budget: Budget) => ({ userId: budget.userId, apiKeyId: budget.apiKeyId, period: budget.period, maxCost: budget.maxCost, maxTokens: budget.maxTokens })

/** A budget as the API shows it: its limits, what its current window spent, what is left, when it resets. */
export function budgetJson(view: BudgetView, now = Date.now()) {
  const window = windowOf(view.period, now)
  const left = (max: number | null, spent: number) => (max === null ? null : Math.max(0, max - spent))
  return {
    id: view.id,
    userId: view.userId,
    email: view.email,
    apiKeyId: view.apiKeyId,
    keyName: view.keyName,
    keyPrefix: view.keyPrefix,
    period: view.period,
    maxCost: view.maxCost,
    maxTokens: view.maxTokens,
    spent: view.spent,
    remaining: { cost: left(view.maxCost, view.spent.cost), tokens: left(view.maxTokens, view.spent.tokens) },
    windowStart: iso(window.start),
    resetsAt: iso(window.end),
    createdAt: iso(view.createdAt)!,
    updatedAt: iso(view.updatedAt)!,
  }
}

export type BudgetJson = ReturnType<typeof budgetJson>

/** Budgets with what each spent in its current window, newest first. */
export async function budgetsPage(rt: Runtime, filter: BudgetFilter): Promise<BudgetJson[]> {
  const now = Date.now()
  return (await rt.store.budgets.list(filter, currentWindows(now))).map((view) => budgetJson(view, now))
}

/** What a budget limits: cost, tokens or both (null: not limited). */
export type Limits = { maxCost: number | null; maxTokens: number | null }

/** Sets (creates or changes) the holder's budget for the period; it applies to the next request on every replica. */
export async function setBudget(rt: Runtime, origin: AuditOrigin, holder: BudgetHolder, period: Period, limits: Limits): Promise<BudgetJson> {
  if (limits.maxCost === null && limits.maxTokens === null)
    throw new HttpError(400, 'A budget limits maxCost, maxTokens or both: give at least one (to remove a budget, DELETE it)', { param: 'maxCost' })
  const result = await rt.store.budgets.set({ holder, period, ...limits }, Date.now())
  if (!result) throw new HttpError(404, 'userId' in holder ? 'No user has this id' : 'No API key that is not revoked has this id')
  const { budget, before } = result
  await budgetsChanged(rt, budget.userId)
  recordAudit(rt, origin, { action: 'budget.set', targetType: 'budget', targetId: budget.id, before: before ? describe(before) : null, after: describe(budget) })
  const [view] = await budgetsPage(rt, { id: budget.id, limit: 1 })
  return view!
}

/** Removes a budget and what it spent; requests in progress settle to nothing. */
export async function removeBudget(rt: Runtime, origin: AuditOrigin, id: string): Promise<void> {
  const removed = await rt.store.budgets.remove(id)
  if (!removed) throw new HttpError(404, 'No budget has this id')
  await budgetsChanged(rt, removed.userId)
  recordAudit(rt, origin, { action: 'budget.removed', targetType: 'budget', targetId: id, before: describe(removed), after: null })
}

/** A user's budgets changed: every replica forgets which budgets their requests count against. */
const budgetsChanged = (rt: Runtime, userId: string) => forgetOnEveryReplica(rt, budgetCacheOf(rt), CHANNEL, userId)
