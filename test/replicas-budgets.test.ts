// A budget across real replicas (issue 18's two-replica test): two `serve` processes on one
// PostgreSQL schema and one Redis prefix (./support/replicas.ts), the budget set with the
// `ai-studio budget` command as an operator would. A budget worth 10 requests and 30 concurrent
// requests spread over both: exactly 10 answered, every refusal a clean 429 insufficient_quota,
// and the database records exactly the budget spent, never more.
import { describe, expect, test } from 'bun:test'
import { windowOf } from '../src/budgets/service'
import { replicasReachable, startReplicas, type Replica } from './support/replicas'
import { seedUser } from './support/users'

const reachable = await replicasReachable('test/replicas-budgets.test.ts')

/** Starting processes on a loaded 2-core machine takes seconds; nothing here is timed. */
const TEST_MS = 120_000

const chat = (replica: Replica, token: string) =>
  replica.call('/v1/chat/completions', {
    method: 'POST',
    token,
    json: { model: 'llama3.2', stream: true, max_tokens: 10, messages: [{ role: 'user', content: 'Hello' }] },
  })

describe.if(reachable)('a budget across real replicas', () => {
  test(
    '30 concurrent chats over two replicas against a budget worth 10: exactly 10 answered, 20 clean 429s, exactly the budget spent',
    async () => {
      // Output at 1 per token, input free: each chat reserves and spends exactly its max_tokens (10).
      const env = { MODEL_PRICES: JSON.stringify({ 'llama3.2': { input: 0, output: 1_000_000 } }), MAX_CONCURRENT_REQUESTS: '0', RATE_LIMIT_CHAT: '0' }
      const group = await startReplicas(2, env, { chunks: 50, chunkDelayMs: 10 })
      try {
        const store = await group.store()
        const user = await seedUser(store)
        const set = await group.command('budget', '--email', user.email, '--period', 'day', '--max-cost', '100')
        expect(set.code).toBe(0)
        expect(set.stdout).toContain('cost 0/100')

        const answers = await Promise.all(
          Array.from({ length: 30 }, async (_, i) => {
            const res = await chat(group.replicas[i % 2]!, i % 3 ? user.apiKey : user.accessToken)
            if (res.status === 200) expect(await res.text()).toEndWith('data: [DONE]\n\n')
            else expect((await res.json()).error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' })
            return res.status
          }),
        )
        expect(answers.filter((status) => status === 200).length).toBe(10)
        expect(answers.filter((status) => status === 429).length).toBe(20)

        // What the database holds, once the replicas' background writes are in.
        const [budget] = await store.store.budgets.applying(user.userId, null)
        const spent = () => store.store.budgets.spent(budget!.id, windowOf('day', Date.now()).start)
        for (let waited = 0; (await spent()).cost < 100 && waited < 10_000; waited += 50) await Bun.sleep(50)
        expect((await spent()).cost).toBe(100)
        const listed = await group.command('budget', '--email', user.email)
        expect(listed.stdout).toContain('cost 100/100')
        // Used up on both replicas.
        for (const replica of group.replicas) expect((await chat(replica, user.apiKey)).status).toBe(429)
      } finally {
        await group.stop()
      }
    },
    TEST_MS,
  )
})
