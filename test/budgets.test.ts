// Budgets (issue 18, deliverable 2) through HTTP, on either database: admins set a user's or a
// key's budget per day, month or in total, in cost and/or tokens; every request reserves its
// worst case before the model is called and settles to what it used when it ends (a cancelled
// stream settles what was generated, a failed call nothing); concurrent requests never spend
// more than the budget; past it, a 429 `insufficient_quota` naming the budget and its reset.
// Users see their own budgets; setting, removing and exhausting one is audited.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { seedUser } from './support/users'

// Output at 1 per token, input free: a request's worst case costs exactly its max_tokens, and the
// fake (chunks past max_tokens cut by num_predict) spends exactly that.
const PRICES = JSON.stringify({ 'llama3.2': { input: 0, output: 1_000_000 }, 'nomic-embed-text': { input: 1_000_000, output: 0 } })
const fake = await startFakeOllama({
  models: [{ name: 'llama3.2:latest' }, { name: 'nomic-embed-text:latest', capabilities: ['embedding'] }],
})
const { rt, app, call, close } = await testApp({
  OLLAMA_BASE_URL: fake.url,
  MODEL_PRICES: PRICES,
  MAX_OUTPUT_TOKENS: '100',
  MAX_CONCURRENT_REQUESTS: '0',
  RATE_LIMIT_CHAT: '0',
  RATE_LIMIT_EMBEDDINGS: '0',
})
const server = listen(app)
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const admin = await seedUser(rt, { role: 'admin' })

type Budget = {
  id: string
  userId: string
  apiKeyId: string | null
  period: string
  maxCost: number | null
  maxTokens: number | null
  spent: { cost: number; tokens: number }
  remaining: { cost: number | null; tokens: number | null }
  windowStart: string
  resetsAt: string | null
}

const setBudget = (path: string, body: unknown, token = admin.accessToken) => call(`/api/admin/${path}`, { method: 'PUT', json: body, token })
async function budgetOf(path: string, body: unknown): Promise<Budget> {
  const res = await setBudget(path, body)
  expect(res.status).toBe(200)
  return res.json()
}
async function budgetsOf(userId: string): Promise<Budget[]> {
  const res = await call(`/api/admin/budgets/?userId=${userId}`, { token: admin.accessToken })
  expect(res.status).toBe(200)
  return (await res.json()).items
}
/**
 * The budget once `done` holds (or after 3 s): what requests spent reaches the database in the
 * background, a moment after they end.
 */
async function settled(userId: string, id: string, done: (budget: Budget) => boolean): Promise<Budget> {
  let found: Budget | undefined
  for (let waited = 0; waited < 3000; waited += 20) {
    found = (await budgetsOf(userId)).find((budget) => budget.id === id)
    if (found && done(found)) break
    await Bun.sleep(20)
  }
  return found!
}
const costReaches = (cost: number) => (budget: Budget) => budget.spent.cost >= cost

const chat = (token: string, body: Record<string, unknown> = {}) =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10, ...body }),
  })

describe('setting budgets', () => {
  test('an admin sets a user\'s and a key\'s budget; changing one keeps it (one per period); the user sees both', async () => {
    const user = await seedUser(rt)
    const daily = await budgetOf(`users/${user.userId}/budgets/day/`, { maxCost: 5, maxTokens: null })
    expect(daily).toMatchObject({ userId: user.userId, apiKeyId: null, period: 'day', maxCost: 5, maxTokens: null, spent: { cost: 0, tokens: 0 } })
    expect(Date.parse(daily.resetsAt!) - Date.parse(daily.windowStart)).toBe(86_400_000)
    const changed = await budgetOf(`users/${user.userId}/budgets/day/`, { maxCost: 7, maxTokens: 1000 })
    expect(changed.id).toBe(daily.id)
    expect(changed).toMatchObject({ maxCost: 7, maxTokens: 1000 })
    const keyTotal = await budgetOf(`keys/${user.apiKeyId}/budgets/total/`, { maxCost: null, maxTokens: 50 })
    expect(keyTotal).toMatchObject({ userId: user.userId, apiKeyId: user.apiKeyId, period: 'total', resetsAt: null })
    const monthly = await budgetOf(`users/${user.userId}/budgets/month/`, { maxCost: 100, maxTokens: null })
    expect(new Date(monthly.windowStart).getUTCDate()).toBe(1)

    const own = await call('/api/budgets/', { token: user.accessToken })
    expect(own.status).toBe(200)
    const ids = (await own.json()).items.map((budget: Budget) => budget.id).sort()
    expect(ids).toEqual([daily.id, keyTotal.id, monthly.id].sort())
    // Another user sees none of them.
    const other = await seedUser(rt)
    expect((await (await call('/api/budgets/', { token: other.accessToken })).json()).items).toEqual([])
  })

  test('bad values are a 400 naming the field; unknown holders a 404; only admins set budgets', async () => {
    const user = await seedUser(rt)
    const cases: [string, unknown, string][] = [
      ['day', { maxCost: -1, maxTokens: null }, 'maxCost'],
      ['day', { maxCost: 'lots', maxTokens: null }, 'maxCost'],
      ['day', { maxCost: null, maxTokens: 1.5 }, 'maxTokens'],
      ['day', { maxCost: null, maxTokens: 1e13 }, 'maxTokens'],
      ['day', { maxCost: 1 }, 'maxTokens'],
      ['week', { maxCost: 1, maxTokens: null }, 'period'],
    ]
    for (const [period, body, field] of cases) {
      const res = await setBudget(`users/${user.userId}/budgets/${period}/`, body)
      expect([field, res.status]).toEqual([field, 400])
      expect((await res.json()).message).toContain(field)
    }
    const neither = await setBudget(`users/${user.userId}/budgets/day/`, { maxCost: null, maxTokens: null })
    expect(neither.status).toBe(400)
    expect((await neither.json()).message).toContain('maxCost, maxTokens or both')

    expect((await setBudget('users/nobody/budgets/day/', { maxCost: 1, maxTokens: null })).status).toBe(404)
    expect((await setBudget('keys/nokey/budgets/day/', { maxCost: 1, maxTokens: null })).status).toBe(404)
    await call(`/api/keys/${user.apiKeyId}/`, { method: 'DELETE', token: user.accessToken })
    expect((await setBudget(`keys/${user.apiKeyId}/budgets/day/`, { maxCost: 1, maxTokens: null })).status).toBe(404)

    expect((await setBudget(`users/${user.userId}/budgets/day/`, { maxCost: 1, maxTokens: null }, user.accessToken)).status).toBe(403)
    expect((await call('/api/admin/budgets/', { token: user.accessToken })).status).toBe(403)
    expect((await call('/api/admin/budgets/unknown/', { method: 'DELETE', token: admin.accessToken })).status).toBe(404)
  })
})

describe('spending', () => {
  test('requests spend what they used; past the budget a 429 insufficient_quota names it and its reset', async () => {
    const user = await seedUser(rt)
    fake.set({ chunks: 50 })
    // Each chat spends 10 (max_tokens 10 at 1 per output token): 3 fit in 35, the 4th would pass it.
    const budget = await budgetOf(`keys/${user.apiKeyId}/budgets/day/`, { maxCost: 35, maxTokens: null })
    for (let i = 0; i < 3; i++) expect((await chat(user.apiKey)).status).toBe(200)
    const refused = await chat(user.apiKey)
    expect(refused.status).toBe(429)
    const body = await refused.json()
    expect(body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota', param: null })
    expect(body.error.message).toContain('This API key’s daily budget of 35 in cost')
    expect(body.error.message).toContain(budget.resetsAt!)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    // The user's session is not the key: the key's budget does not apply to it.
    expect((await chat(user.accessToken)).status).toBe(200)

    const after = await settled(user.userId, budget.id, costReaches(30))
    expect(after.spent.cost).toBe(30)
    expect(after.remaining.cost).toBe(5)
    // The upstream was called 4 times: the refused request never reached it.
    expect(fake.requests.filter((request) => request.path === '/api/chat').length).toBe(4)
  })

  test('a request that may use more than is left is refused before the budget is used up, saying why', async () => {
    const user = await seedUser(rt)
    await budgetOf(`users/${user.userId}/budgets/total/`, { maxCost: null, maxTokens: 2000 })
    // No max_tokens: MAX_OUTPUT_TOKENS (100) is reserved, plus a token per byte of the body.
    const big = await chat(user.accessToken, { max_tokens: null, messages: [{ role: 'user', content: 'x'.repeat(1950) }] })
    expect(big.status).toBe(429)
    const message = (await big.json()).error.message as string
    expect(message).toContain('Your account’s total budget of 2000 tokens has 2000 left')
    expect(message).toContain('lower max_tokens')
    expect(message).toContain('It does not reset.')
    expect(big.headers.get('retry-after')).toBe('1')
    expect((await chat(user.accessToken)).status).toBe(200)
  })

  test('30 concurrent requests against a budget worth 10: exactly 10 answered, 20 refused cleanly, never more spent', async () => {
    const user = await seedUser(rt)
    fake.set({ chunks: 50, chunkDelayMs: 20 })
    const budget = await budgetOf(`users/${user.userId}/budgets/month/`, { maxCost: 100, maxTokens: null })
    const statuses = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const res = await chat(user.apiKey, { stream: true })
        if (res.status === 200) await res.text()
        else expect((await res.json()).error.code).toBe('insufficient_quota')
        return res.status
      }),
    )
    expect(statuses.filter((status) => status === 200).length).toBe(10)
    expect(statuses.filter((status) => status === 429).length).toBe(20)
    expect((await settled(user.userId, budget.id, costReaches(100))).spent.cost).toBe(100)
  })

  test('a cancelled stream spends what was generated; a failed call spends nothing and frees its reservation', async () => {
    const user = await seedUser(rt)
    const budget = await budgetOf(`users/${user.userId}/budgets/day/`, { maxCost: 10, maxTokens: null })
    // The whole budget is reserved by one stream (max_tokens 10): cut after 3 chunks, it spends 3.
    fake.set({ chunks: 10, chunkDelayMs: 40 })
    const leave = new AbortController()
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10, stream: true }),
      signal: leave.signal,
    })
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let seen = ''
    while ((seen.match(/"content":"tok/g) ?? []).length < 3) seen += decoder.decode((await reader.read()).value)
    // While it streams, the budget is held: another request is refused.
    expect((await chat(user.accessToken, { max_tokens: 8 })).status).toBe(429)
    leave.abort()
    const after = await settled(user.userId, budget.id, costReaches(3))
    expect(after.spent.cost).toBeGreaterThanOrEqual(3)
    expect(after.spent.cost).toBeLessThan(10)

    fake.set({ chunks: 10, chunkDelayMs: 0, chatStatus: 500 })
    expect((await chat(user.accessToken, { max_tokens: 1 })).status).toBe(502)
    fake.set({ chatStatus: undefined })
    const left = 10 - after.spent.cost
    expect((await chat(user.accessToken, { max_tokens: left })).status).toBe(200)
    expect((await settled(user.userId, budget.id, costReaches(10))).spent.cost).toBe(10)
  })

  test('a token budget counts prompt and completion tokens, embeddings included', async () => {
    const user = await seedUser(rt)
    fake.set({ chunks: 4 })
    const budget = await budgetOf(`users/${user.userId}/budgets/day/`, { maxCost: null, maxTokens: 100_000 })
    const client = new OpenAI({ apiKey: user.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
    const completion = await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10 })
    const embedding = await client.embeddings.create({ model: 'nomic-embed-text', input: ['one', 'two'] })
    const used = completion.usage!.total_tokens + embedding.usage.total_tokens
    expect((await settled(user.userId, budget.id, (each) => each.spent.tokens >= used)).spent.tokens).toBe(used)
  })

  test('a Responses request continuing a stored response reserves for the history it sends upstream too', async () => {
    const user = await seedUser(rt)
    // Room for the first request (its ~3,100-byte body and 10 output tokens), not for the second's history on top of what the first spent.
    await budgetOf(`users/${user.userId}/budgets/total/`, { maxCost: null, maxTokens: 3500 })
    const respond = (body: Record<string, unknown>) => call('/v1/responses', { method: 'POST', token: user.accessToken, json: { model: 'llama3.2', max_output_tokens: 10, ...body } })
    const first = await respond({ input: 'x'.repeat(3000) })
    expect(first.status).toBe(200)
    const { id } = await first.json()
    const next = await respond({ input: 'and then?', previous_response_id: id })
    expect(next.status).toBe(429)
    expect((await next.json()).error).toMatchObject({ code: 'insufficient_quota' })
    // Without history the same small request fits.
    expect((await respond({ input: 'and then?' })).status).toBe(200)
  })

  test('removing a budget lets requests through again; the Messages API refuses in Anthropic\'s envelope', async () => {
    const user = await seedUser(rt)
    fake.set({ chunks: 50 })
    const budget = await budgetOf(`users/${user.userId}/budgets/day/`, { maxCost: 5, maxTokens: null })
    const messages = () =>
      call('/v1/messages', {
        method: 'POST',
        headers: { 'x-api-key': user.apiKey, 'anthropic-version': '2023-06-01' },
        json: { model: 'llama3.2', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] },
      })
    const refused = await messages()
    expect(refused.status).toBe(429)
    const body = await refused.json()
    expect(body.type).toBe('error')
    expect(body.error.message).toContain('daily budget of 5 in cost')
    expect((await call(`/api/admin/budgets/${budget.id}/`, { method: 'DELETE', token: admin.accessToken })).status).toBe(204)
    expect((await messages()).status).toBe(200)
    expect(await budgetsOf(user.userId)).toEqual([])
  })
})

describe('audit', () => {
  test('setting, changing, removing and exhausting a budget are recorded (exhaustion once per window)', async () => {
    const user = await seedUser(rt)
    const first = await budgetOf(`users/${user.userId}/budgets/total/`, { maxCost: 20, maxTokens: null })
    await budgetOf(`users/${user.userId}/budgets/total/`, { maxCost: 10, maxTokens: null })
    fake.set({ chunks: 50 })
    expect((await chat(user.accessToken)).status).toBe(200)
    for (let i = 0; i < 3; i++) expect((await chat(user.accessToken)).status).toBe(429)
    await call(`/api/admin/budgets/${first.id}/`, { method: 'DELETE', token: admin.accessToken })

    const res = await call(`/api/admin/audit/?targetType=budget&targetId=${first.id}`, { token: admin.accessToken })
    const items = (await res.json()).items as { action: string; actorUserId: string; before: any; after: any }[]
    expect(items.map((entry) => entry.action)).toEqual(['budget.removed', 'budget.exhausted', 'budget.set', 'budget.set'])
    const [removed, exhausted, changed, set] = items
    expect(set!.before).toBeNull()
    expect(set!.after).toMatchObject({ userId: user.userId, apiKeyId: null, period: 'total', maxCost: 20 })
    expect(changed!.before).toMatchObject({ maxCost: 20 })
    expect(changed!.after).toMatchObject({ maxCost: 10 })
    expect(changed!.actorUserId).toBe(admin.userId)
    expect(exhausted!.actorUserId).toBe(user.userId)
    expect(exhausted!.after).toMatchObject({ maxCost: 10, spent: { cost: 10 } })
    expect(removed!.before).toMatchObject({ maxCost: 10 })
  })
})
