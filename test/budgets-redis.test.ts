// Budgets on Redis (REDIS_URL): two replicas sharing a prefix count one budget together, exactly,
// under concurrency; a dead replica's reservations are released after their lease while a live
// one's are renewed; an account Redis forgot is read again from the database; Redis lost mid-run
// is never a 500 (REDIS_FAILURE=local counts on each replica from the database; `closed`
// answers 503).
import { afterAll, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { memoryLedger, redisLedger } from '../src/budgets/ledger'
import { loadConfig } from '../src/config'
import { openRedis } from '../src/shared/redis'
import { startFakeOllama } from './support/fake-ollama'
import { deleteKeysUnder, redisReachable, redisTestUrl } from './support/redis'
import { tcpProxy } from './support/tcp-proxy'
import { twinApps, type Replica } from './support/twin-apps'
import { seedUser } from './support/users'

// Leases of a second, Redis found again by its probe: seconds.
setDefaultTimeout(30_000)

const reachable = await redisReachable('test/budgets-redis.test.ts')
const fake = await startFakeOllama()
beforeEach(() => fake.reset())
afterAll(() => fake.stop())

// A request's worst case and its spend are both its max_tokens (10) at 1 per output token.
const env = {
  OLLAMA_BASE_URL: fake.url,
  MODEL_PRICES: JSON.stringify({ 'llama3.2': { input: 0, output: 1_000_000 } }),
  MAX_CONCURRENT_REQUESTS: '0',
  RATE_LIMIT_CHAT: '0',
}

const waitUntil = async (condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); await Bun.sleep(20))
    if (Date.now() > deadline) throw new Error('condition not met in time')
}

const chat = (replica: Replica, token: string, stream = false) =>
  fetch(`${replica.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10, stream }),
  })

async function setBudget(replica: Replica, adminToken: string, userId: string, maxCost: number) {
  const res = await replica.call(`/api/admin/users/${userId}/budgets/day/`, { method: 'PUT', json: { maxCost, maxTokens: null }, token: adminToken })
  expect(res.status).toBe(200)
  return (await res.json()) as { id: string }
}

/**
 * Runs `test` on two replicas (env over the file's) with a user whose daily budget is `maxCost`,
 * closed however the test ends.
 */
async function withBudget(
  maxCost: number,
  test: (twins: Awaited<ReturnType<typeof twinApps>>, admin: Seeded, user: Seeded, budgetId: string) => Promise<void>,
  twinEnv: Record<string, string> = {},
) {
  const twins = await twinApps({ ...env, ...twinEnv })
  try {
    const admin = await seedUser(twins.a.rt, { role: 'admin' })
    const user = await seedUser(twins.a.rt)
    const { id } = await setBudget(twins.a, admin.accessToken, user.userId, maxCost)
    await test(twins, admin, user, id)
  } finally {
    await twins.close()
  }
}
type Seeded = Awaited<ReturnType<typeof seedUser>>

const spentOf = async (replica: Replica, adminToken: string, userId: string) => {
  const res = await replica.call(`/api/admin/budgets/?userId=${userId}`, { token: adminToken })
  return ((await res.json()).items[0] as { spent: { cost: number } }).spent.cost
}

describe.if(reachable)('a budget on Redis, across replicas', () => {
  test('30 concurrent chats spread over two replicas, budget worth 10: exactly 10 answered, every refusal a clean 429', async () => {
    await withBudget(100, async (twins, admin, user) => {
      fake.set({ chunks: 50, chunkDelayMs: 10 })
      const answers = await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const res = await chat(i % 2 ? twins.b : twins.a, user.apiKey, true)
          if (res.status === 200) expect(await res.text()).toContain('[DONE]')
          else expect((await res.json()).error).toMatchObject({ code: 'insufficient_quota', type: 'insufficient_quota' })
          return res.status
        }),
      )
      expect(answers.filter((status) => status === 200).length).toBe(10)
      expect(answers.filter((status) => status === 429).length).toBe(20)
      await waitUntil(async () => (await spentOf(twins.b, admin.accessToken, user.userId)) === 100)
      // Spent on both replicas: refused on both.
      expect((await chat(twins.a, user.apiKey)).status).toBe(429)
      expect((await chat(twins.b, user.apiKey)).status).toBe(429)
    })
  })

  test('a replica that dies has its reservations released after their lease; a live one keeps them by renewing', async () => {
    await withBudget(20, async (twins, admin, user, budgetId) => {
      fake.set({ chunks: 50 })
      // The replicas' account: today's window.
      const now = new Date()
      const windowStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
      const account = { budgetId, windowStart, windowEnd: windowStart + 86_400_000, maxCost: 20, maxTokens: null }
      const ledgerOn = () => {
        const link = openRedis(loadConfig({ REDIS_URL: redisTestUrl, REDIS_PREFIX: twins.prefix }).redis!)
        return { link, ledger: redisLedger(link, 'closed', twins.a.rt.store.budgets, { leaseMs: 1000 }) }
      }

      // Alive: a reservation of the whole budget outlives several leases.
      const alive = ledgerOn()
      const hold = await alive.ledger.reserve(account, { cost: 20, tokens: 0 })
      expect(hold.held).toBe(true)
      await Bun.sleep(2_500)
      expect((await chat(twins.b, user.apiKey)).status).toBe(429)
      if (hold.held) await hold.settle({ cost: 0, tokens: 0 })
      expect((await chat(twins.b, user.apiKey)).status).toBe(200)
      alive.ledger.close()
      alive.link.close()

      // Dead: reserves the 10 left, then stops without settling.
      const dead = ledgerOn()
      expect((await dead.ledger.reserve(account, { cost: 10, tokens: 0 })).held).toBe(true)
      dead.ledger.close()
      dead.link.close()
      expect((await chat(twins.b, user.apiKey)).status).toBe(429)
      await waitUntil(async () => (await chat(twins.a, user.apiKey)).status === 200, 5_000)
      await waitUntil(async () => (await spentOf(twins.a, admin.accessToken, user.userId)) === 20)
    })
  })

  test('an account Redis forgot is read again from the database, with what was spent', async () => {
    await withBudget(25, async (twins, admin, user) => {
      fake.set({ chunks: 50 })
      expect((await chat(twins.a, user.apiKey)).status).toBe(200)
      expect((await chat(twins.b, user.apiKey)).status).toBe(200)
      await waitUntil(async () => (await spentOf(twins.a, admin.accessToken, user.userId)) === 20)
      await deleteKeysUnder(redisTestUrl, `${twins.prefix}budget:`)
      // 20 of 25 spent, as the database says: 10 more would pass it.
      expect((await chat(twins.b, user.apiKey)).status).toBe(429)
    })
  })
})

describe.if(reachable)('budgets with Redis lost mid-run', () => {
  test('REDIS_FAILURE=local: each replica counts from the database (never a 500); closed: 503 until Redis is back', async () => {
    for (const failure of ['local', 'closed'] as const) {
      const proxy = await tcpProxy(redisTestUrl)
      try {
        await withBudget(
          25,
          async (twins, admin, user) => {
            fake.set({ chunks: 50 })
            expect((await chat(twins.a, user.apiKey)).status).toBe(200)
            await waitUntil(async () => (await spentOf(twins.a, admin.accessToken, user.userId)) === 10)
            proxy.stop()
            if (failure === 'local') {
              // Each replica reads 10 spent from the database, and counts alone.
              expect((await chat(twins.b, user.apiKey)).status).toBe(200)
              expect((await chat(twins.b, user.apiKey)).status).toBe(429)
            } else {
              const res = await chat(twins.b, user.apiKey)
              expect(res.status).toBe(503)
              expect((await res.json()).error.code).toBe('shared_state_unavailable')
            }
            proxy.start()
            await waitUntil(async () => (await (await twins.b.call('/api/dashboard/health/')).json()).redis.up)
            // Back on Redis, the account is read again from the database: under `local` it holds what the
            // replica spent alone (20 of 25: 10 more would pass it); under `closed` nothing was spent meanwhile.
            expect((await chat(twins.b, user.apiKey)).status).toBe(failure === 'local' ? 429 : 200)
          },
          { REDIS_URL: proxy.url, REDIS_FAILURE: failure },
        )
      } finally {
        proxy.stop()
      }
    }
  })
})

test('the memory ledger reads an account from the database once, then counts itself', async () => {
  let reads = 0
  const added: number[] = []
  const ledger = memoryLedger({
    spent: async () => {
      reads++
      return { cost: 4, tokens: 0 }
    },
    addSpend: (_id, _start, spend) => void added.push(spend.cost),
  })
  const account = { budgetId: 'b', windowStart: 0, windowEnd: null, maxCost: 10, maxTokens: null }
  const holds = await Promise.all([
    ledger.reserve(account, { cost: 3, tokens: 0 }),
    ledger.reserve(account, { cost: 3, tokens: 0 }),
    ledger.reserve(account, { cost: 3, tokens: 0 }),
  ])
  expect(reads).toBe(1)
  expect(holds.map((hold) => hold.held)).toEqual([true, true, false])
  const refused = holds[2]!
  if (!refused.held) expect(refused).toMatchObject({ over: 'cost', spent: { cost: 4 }, reserved: { cost: 6 }, first: true })
  if (holds[0]!.held) await holds[0]!.settle({ cost: 1, tokens: 0 })
  if (holds[0]!.held) await holds[0]!.settle({ cost: 1, tokens: 0 }) // only the first settle counts
  expect(added).toEqual([1])
  // 5 spent, 3 held: 2 more fit exactly, then nothing.
  const again = await ledger.reserve(account, { cost: 2, tokens: 0 })
  expect(again.held).toBe(true)
  const past = await ledger.reserve(account, { cost: 0.01, tokens: 0 })
  expect(past.held || past.first).toBe(false)
  ledger.close()
})
