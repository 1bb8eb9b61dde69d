// What each budget has spent in its current window and what the requests in progress have
// reserved against it, behind one interface: counted in this process's memory (one replica), or
// in Redis (every replica sharing REDIS_URL counts together, so together they never pass a
// budget). A request reserves its worst case before it calls the model, and settles to what it
// really spent when it ends; the check and the reservation are one step, so N concurrent
// requests can never together reserve more than the budget holds. What is spent is also added to
// the database (the store), which outlives both memory and Redis and is where either starts from.
import type { Spend } from '../db/stores/budgets'
import { sharedOrLocal } from '../shared/fallback'
import type { RedisLink, RedisSettings } from '../shared/redis'
import { uniqueIds } from '../shared/unique-ids'

/** One budget's current window and its limits. */
export type Account = {
  budgetId: string
  windowStart: number
  /** When the window ends (ms); null for a total budget. */
  windowEnd: number | null
  maxCost: number | null
  maxTokens: number | null
}

export type Hold =
  | {
      held: true
      /** Replaces the reservation with what was really spent; only the first call counts. Never rejects. */
      settle(actual: Spend): Promise<void>
    }
  | {
      held: false
      /** The limit the request would have passed. */
      over: 'cost' | 'tokens'
      spent: Spend
      /** Reserved by the requests in progress. */
      reserved: Spend
      /** The budget's first refusal in this window (its exhaustion is recorded once). */
      first: boolean
    }

export interface BudgetLedger {
  /** Reserves `worst` against the account, unless spent + reserved + worst would pass one of its limits. */
  reserve(account: Account, worst: Spend): Promise<Hold>
  /** Forgets what it counts, so that each account is read from the database again at its next use. */
  forget(): void
  close(): void
}

/** Where spend is kept for good: the store's read and (background) add. */
export type SpendRecord = {
  spent(budgetId: string, windowStart: number): Promise<Spend>
  addSpend(budgetId: string, windowStart: number, spend: Spend): void
}

/** Costs are sums of small fractions: a request that lands exactly on the limit is within it. */
const EPSILON = 1e-9

const overOf = (account: Account, used: Spend, worst: Spend): 'cost' | 'tokens' | undefined => {
  if (account.maxCost !== null && used.cost + worst.cost > account.maxCost + EPSILON) return 'cost'
  if (account.maxTokens !== null && used.tokens + worst.tokens > account.maxTokens) return 'tokens'
  return undefined
}

const accountKey = (account: Account) => `${account.budgetId}:${account.windowStart}`

/** How long an account no request has used stays in memory; it is read from the database again after. */
const IDLE_MS = 60_000

type Entry = { spent: Spend; reserved: Spend; holds: number; refused: boolean; usedAt: number }

/**
 * The ledger of one process. An account is read from the database at its first use, then counted
 * here: after that, the check and the reservation are one synchronous step.
 */
export function memoryLedger(record: SpendRecord): BudgetLedger {
  const entries = new Map<string, Entry>()
  const loading = new Map<string, Promise<Entry>>()

  const entryOf = async (account: Account): Promise<Entry> => {
    const key = accountKey(account)
    const known = entries.get(key)
    if (known) return known
    let load = loading.get(key)
    if (!load) {
      load = record.spent(account.budgetId, account.windowStart).then((spent) => {
        const entry: Entry = { spent: { ...spent }, reserved: { cost: 0, tokens: 0 }, holds: 0, refused: false, usedAt: Date.now() }
        entries.set(key, entry)
        return entry
      })
      loading.set(key, load)
      load.finally(() => loading.delete(key)).catch(() => {})
    }
    return load
  }

  // Accounts of windows no request uses any more go; so do idle ones (read again when next used).
  const sweep = setInterval(() => {
    const now = Date.now()
    for (const [key, entry] of entries) if (entry.holds === 0 && entry.usedAt < now - IDLE_MS) entries.delete(key)
  }, IDLE_MS)
  sweep.unref?.()

  return {
    async reserve(account, worst) {
      const entry = await entryOf(account)
      entry.usedAt = Date.now()
      const used = { cost: entry.spent.cost + entry.reserved.cost, tokens: entry.spent.tokens + entry.reserved.tokens }
      const over = overOf(account, used, worst)
      if (over) {
        const first = !entry.refused
        entry.refused = true
        return { held: false, over, spent: { ...entry.spent }, reserved: { ...entry.reserved }, first }
      }
      entry.reserved.cost += worst.cost
      entry.reserved.tokens += worst.tokens
      entry.holds++
      let settled = false
      return {
        held: true,
        async settle(actual) {
          if (settled) return
          settled = true
          entry.reserved.cost -= worst.cost
          entry.reserved.tokens -= worst.tokens
          entry.holds--
          entry.spent.cost += actual.cost
          entry.spent.tokens += actual.tokens
          record.addSpend(account.budgetId, account.windowStart, actual)
        },
      }
    },
    forget: () => entries.clear(),
    close() {
      clearInterval(sweep)
      entries.clear()
    },
  }
}

/** How long a reservation outlives its last renewal: a replica that dies frees its reservations within this. */
const LEASE_MS = 30_000
/** An account no request has used for this long leaves Redis (it is read from the database again). */
const IDLE_TTL_MS = 24 * 60 * 60_000

/** Redis's clock (the replicas' clocks differ), in ms. */
const NOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`

/**
 * Reserves, in one script Redis runs alone. KEYS[1] the account, a hash: `cost` and `tokens`
 * spent, `refused` once a request was refused, and `r:<id>` = "cost tokens expiry" per
 * reservation. ARGV lease, ttl, max cost and max tokens ('' for none), the worst case's cost and
 * tokens, the reservation's id. Expired reservations (a dead replica's) are dropped first.
 * Returns {1} held, {-1} the account is not in Redis (read it from the database, then `LOAD`),
 * or {0, over, spent cost, spent tokens, reserved cost, reserved tokens, first refusal (1|0)},
 * numbers as strings (a Lua number would reach us cut to an integer).
 */
const RESERVE = `${NOW}
if redis.call('HEXISTS', KEYS[1], 'cost') == 0 then return { -1 } end
local fields = redis.call('HGETALL', KEYS[1])
local spentCost, spentTokens, heldCost, heldTokens = 0, 0, 0, 0
for i = 1, #fields, 2 do
  local name, value = fields[i], fields[i + 1]
  if name == 'cost' then spentCost = tonumber(value)
  elseif name == 'tokens' then spentTokens = tonumber(value)
  elseif string.sub(name, 1, 2) == 'r:' then
    local cost, tokens, expiry = string.match(value, '(%S+) (%S+) (%S+)')
    if tonumber(expiry) <= now then redis.call('HDEL', KEYS[1], name)
    else heldCost = heldCost + tonumber(cost); heldTokens = heldTokens + tonumber(tokens) end
  end
end
local cost, tokens = tonumber(ARGV[5]), tonumber(ARGV[6])
local over = nil
if ARGV[3] ~= '' and spentCost + heldCost + cost > tonumber(ARGV[3]) + ${EPSILON} then over = 'cost'
elseif ARGV[4] ~= '' and spentTokens + heldTokens + tokens > tonumber(ARGV[4]) then over = 'tokens' end
if over then
  local first = redis.call('HSETNX', KEYS[1], 'refused', '1')
  return { 0, over, tostring(spentCost), tostring(spentTokens), tostring(heldCost), tostring(heldTokens), first }
end
redis.call('HSET', KEYS[1], 'r:' .. ARGV[7], ARGV[5] .. ' ' .. ARGV[6] .. ' ' .. (now + tonumber(ARGV[1])))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return { 1 }
`

/** Puts an account read from the database into Redis, unless another replica did first. ARGV cost, tokens, ttl. */
const LOAD = `
if redis.call('HEXISTS', KEYS[1], 'cost') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'cost', ARGV[1], 'tokens', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`

/**
 * Replaces a reservation with what was spent. ARGV the reservation's id, cost, tokens. An account
 * Redis no longer holds is left alone: it is read again from the database, which has the spend.
 */
const SETTLE = `
redis.call('HDEL', KEYS[1], 'r:' .. ARGV[1])
if redis.call('HEXISTS', KEYS[1], 'cost') == 0 then return 0 end
redis.call('HINCRBYFLOAT', KEYS[1], 'cost', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[3])
return 1
`

/** Extends the leases of reservations still held: KEYS[i] holds reservation ARGV[i + 1]; ARGV[1] the lease. */
const RENEW = `${NOW}
for i, key in ipairs(KEYS) do
  local field = 'r:' .. ARGV[i + 1]
  local value = redis.call('HGET', key, field)
  if value then
    local cost, tokens = string.match(value, '(%S+) (%S+)')
    redis.call('HSET', key, field, cost .. ' ' .. tokens .. ' ' .. (now + tonumber(ARGV[1])))
  end
end
`

/**
 * The ledger shared by every replica on REDIS_URL. Each reservation is held on a lease that one
 * timer renews for all of this replica's reservations, so those of a replica that dies are
 * released within `leaseMs`. An account stays in Redis while requests use it (at most a day idle,
 * or past its window's end); when Redis does not hold it, it is read from the database. While
 * Redis cannot be reached, REDIS_FAILURE decides (shared/fallback.ts): `local` counts in this
 * replica's memory (`local`, read from the database), `closed` refuses with 503.
 */
export function redisLedger(
  link: RedisLink,
  failure: RedisSettings['failure'],
  record: SpendRecord,
  { leaseMs = LEASE_MS, local = memoryLedger(record) }: { leaseMs?: number; local?: BudgetLedger } = {},
): BudgetLedger {
  const reservationId = uniqueIds()
  /** This replica's reservations on Redis: reservation id → account key. */
  const held = new Map<string, string>()

  /**
   * Accounts Redis may hold short: spent in this replica's memory while Redis was lost, or whose
   * settle did not reach it. Once Redis is back they are deleted there, so that they are read
   * again from the database, which has every settle (reservations in progress on them are then
   * no longer counted: their requests settle into the database only).
   */
  const stale = new Set<string>()
  const renew = setInterval(() => {
    if (link.up && held.size) link.script(RENEW, [...held.values()], [leaseMs, ...held.keys()]).catch(() => {})
  }, leaseMs / 3)
  renew.unref?.()
  link.onChange((up) => {
    if (!up) return
    // What this replica counted alone while Redis was lost is not Redis's any more.
    local.forget()
    if (!stale.size) return
    const keys = [...stale]
    stale.clear()
    link.send('DEL', keys).catch(() => keys.forEach((key) => stale.add(key)))
  })

  const ttlOf = (account: Account) => Math.max(leaseMs, Math.min(IDLE_TTL_MS, account.windowEnd === null ? IDLE_TTL_MS : account.windowEnd - Date.now() + leaseMs))
  const limit = (max: number | null) => (max === null ? '' : max)

  const reserveShared = async (account: Account, worst: Spend): Promise<Hold> => {
    const key = link.key(`budget:${accountKey(account)}`)
    const id = reservationId()
    const args = [leaseMs, ttlOf(account), limit(account.maxCost), limit(account.maxTokens), worst.cost, worst.tokens, id]
    let answer = (await link.script(RESERVE, [key], args)) as (number | string)[]
    if (answer[0] === -1) {
      const spent = await record.spent(account.budgetId, account.windowStart)
      await link.script(LOAD, [key], [spent.cost, spent.tokens, ttlOf(account)])
      answer = (await link.script(RESERVE, [key], args)) as (number | string)[]
      if (answer[0] === -1) throw new Error('a budget account left Redis as soon as it was loaded (is Redis evicting keys?)')
    }
    if (answer[0] === 0) {
      const [, over, spentCost, spentTokens, heldCost, heldTokens, first] = answer
      return {
        held: false,
        over: over as 'cost' | 'tokens',
        spent: { cost: Number(spentCost), tokens: Number(spentTokens) },
        reserved: { cost: Number(heldCost), tokens: Number(heldTokens) },
        first: first === 1,
      }
    }
    held.set(id, key)
    let settled = false
    return {
      held: true,
      async settle(actual) {
        if (settled) return
        settled = true
        held.delete(id)
        record.addSpend(account.budgetId, account.windowStart, actual)
        // Redis lost meanwhile: the reservation's lease frees it; the database has the spend, and
        // the account is read from there again once Redis is back.
        await link.script(SETTLE, [key], [id, actual.cost, actual.tokens]).catch(() => void stale.add(key))
      },
    }
  }

  return {
    reserve: (account, worst) =>
      sharedOrLocal(
        link,
        failure,
        () => reserveShared(account, worst),
        () => {
          stale.add(link.key(`budget:${accountKey(account)}`))
          return local.reserve(account, worst)
        },
      ),
    forget: () => local.forget(),
    close() {
      clearInterval(renew)
      local.close()
    },
  }
}
