// `budget`: sets, lists or removes a user's or an API key's budget from the command line, as the
// admin API does (src/budgets/). Running servers apply a change at once with REDIS_URL, else
// within a second. It never creates a database, as `unblock` does not.
import { normaliseEmail } from '../auth/accounts'
import { COMMAND_LINE } from '../audit/service'
import { PERIODS, type BudgetHolder, type Period } from '../db/stores/budgets'
import { HttpError } from '../http/errors'
import { InvalidField } from '../http/invalid-field'
import { budgetsPage, removeBudget, setBudget, type BudgetJson } from '../budgets/service'
import { UsageError, type Command } from './command'
import { commandRuntime, existingDatabase } from './runtime'

/** A limit given on the command line: a number from 0 (cost) or a whole number (tokens). */
function limitOf(flag: string, value: string | undefined, whole: boolean): number | null {
  if (value === undefined) return null
  const number = Number(value)
  if (value.trim() === '' || !Number.isFinite(number) || number < 0 || number > 1e12 || (whole && !Number.isInteger(number)))
    throw new UsageError(`--${flag} must be ${whole ? 'a whole number' : 'a number'} from 0 to 1e12`)
  return number
}

const line = (budget: BudgetJson) =>
  [
    budget.apiKeyId ? `key ${budget.keyPrefix}… (${budget.apiKeyId})` : `user ${budget.email}`,
    budget.period,
    budget.maxCost === null ? null : `cost ${budget.spent.cost}/${budget.maxCost}`,
    budget.maxTokens === null ? null : `tokens ${budget.spent.tokens}/${budget.maxTokens}`,
    budget.resetsAt ? `resets ${budget.resetsAt}` : 'never resets',
    `id ${budget.id}`,
  ]
    .filter(Boolean)
    .join('  ')

export const budgetCommand: Command = {
  name: 'budget',
  summary: "set, list or remove a user's or an API key's budget (per day, month or in total; cost and/or tokens)",
  usage: 'budget --email E | --key KEY_ID [--period day|month|total (--max-cost N | --max-tokens N)... | --period P --remove]',
  options: {
    email: { type: 'string' },
    key: { type: 'string' },
    period: { type: 'string' },
    'max-cost': { type: 'string' },
    'max-tokens': { type: 'string' },
    remove: { type: 'boolean' },
  },
  async run(flags) {
    const { email, key, period, remove } = flags as { email?: string; key?: string; period?: string; remove?: boolean }
    if ((email === undefined) === (key === undefined)) throw new UsageError('give --email (a user’s budget) or --key (an API key’s), not both')
    if (period !== undefined && !PERIODS.includes(period as Period)) throw new UsageError(`--period must be one of ${PERIODS.join(', ')}`)
    const maxCost = limitOf('max-cost', flags['max-cost'] as string | undefined, false)
    const maxTokens = limitOf('max-tokens', flags['max-tokens'] as string | undefined, true)
    const setting = maxCost !== null || maxTokens !== null
    if ((setting || remove) && period === undefined) throw new UsageError('--period is required to set or remove a budget')
    if (setting && remove) throw new UsageError('--remove takes no limits')
    if (period !== undefined && !setting && !remove) throw new UsageError('give --max-cost and/or --max-tokens to set the budget, or --remove')
    let normalised: string | undefined
    try {
      normalised = email === undefined ? undefined : normaliseEmail(email)
    } catch (error) {
      if (error instanceof InvalidField) throw new UsageError(`--email ${error.problem}`)
      throw error
    }
    if (!existingDatabase()) return 1
    const rt = await commandRuntime()
    try {
      let holder: BudgetHolder = { apiKeyId: key! }
      if (normalised !== undefined) {
        const user = await rt.store.accounts.findUserByEmail(normalised)
        if (!user) {
          console.error(`no user has the email ${normalised}`)
          return 1
        }
        holder = { userId: user.id }
      }
      if (setting) {
        console.log(line(await setBudget(rt, COMMAND_LINE, holder, period as Period, { maxCost, maxTokens })))
        return
      }
      const budgets = (await budgetsPage(rt, { ...holder, limit: 1000 })).filter((budget) => 'apiKeyId' in holder || budget.apiKeyId === null)
      if (remove) {
        const found = budgets.find((budget) => budget.period === period)
        if (!found) {
          console.error(`no ${period} budget is set there`)
          return 1
        }
        await removeBudget(rt, COMMAND_LINE, found.id)
        console.log(`removed: ${line(found)}`)
        return
      }
      if (!budgets.length) console.log('no budgets')
      for (const budget of budgets) console.log(line(budget))
    } catch (error) {
      if (!(error instanceof HttpError)) throw error
      console.error(error.message)
      return 1
    } finally {
      await rt.close()
    }
  },
}
