// Caps on requests in progress set by admins (issue 18, deliverable 3), through HTTP: a user's
// cap replaces MAX_CONCURRENT_REQUESTS for them (0: none; null: the server's again), and an API
// key's own cap applies besides its user's; each takes effect on the next request. Only admins
// set them; bad values are a 400 naming the field.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { seedUser } from './support/users'

const fake = await startFakeOllama()
const { rt, app, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url, MAX_CONCURRENT_REQUESTS: '3', RATE_LIMIT_CHAT: '0' })
const server = listen(app)
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const admin = await seedUser(rt, { role: 'admin' })
const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] }

/** Holds `count` streamed chats open with the token (their first chunk read), then asks once more: that answer's status. Lets them go after. */
async function oneMoreWhileHolding(count: number, holder: string, asker = holder): Promise<number> {
  fake.set({ chunks: 100, chunkDelayMs: 50 })
  const leave = new AbortController()
  const streams = await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${holder}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...hello, stream: true }),
        signal: leave.signal,
      })
      if (res.status === 200) await res.body!.getReader().read()
      return res.status
    }),
  )
  expect(streams.every((status) => status === 200)).toBe(true)
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${asker}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...hello, stream: true }),
    signal: leave.signal,
  })
  leave.abort()
  fake.set({ chunks: 5, chunkDelayMs: 0 })
  // The held streams' slots are given back once their ends are seen.
  for (let waited = 0; fake.active > 0 && waited < 3000; waited += 10) await Bun.sleep(10)
  await Bun.sleep(20)
  return res.status
}

const setUser = (id: string, value: unknown) => call(`/api/admin/users/${id}/`, { method: 'PATCH', json: { maxConcurrentRequests: value }, token: admin.accessToken })
const setKey = (id: string, value: unknown) => call(`/api/admin/keys/${id}/`, { method: 'PATCH', json: { maxConcurrentRequests: value }, token: admin.accessToken })

describe('a user\'s cap', () => {
  test('replaces MAX_CONCURRENT_REQUESTS for that user; null gives it back; other users keep the server\'s', async () => {
    const user = await seedUser(rt)
    const res = await setUser(user.userId, 1)
    expect(res.status).toBe(200)
    expect((await res.json()).maxConcurrentRequests).toBe(1)
    expect(await oneMoreWhileHolding(1, user.accessToken)).toBe(429)
    const other = await seedUser(rt)
    expect(await oneMoreWhileHolding(1, other.accessToken)).toBe(200)

    await setUser(user.userId, null)
    expect(await oneMoreWhileHolding(1, user.accessToken)).toBe(200)
    expect(await oneMoreWhileHolding(3, user.accessToken)).toBe(429)
  })

  test('0 lifts it: more than MAX_CONCURRENT_REQUESTS at once', async () => {
    const user = await seedUser(rt)
    await setUser(user.userId, 0)
    expect(await oneMoreWhileHolding(3, user.accessToken)).toBe(200)
  })
})

describe('a key\'s own cap', () => {
  test('applies to that key besides its user\'s: the key is refused past it, the user\'s other credentials are not', async () => {
    const user = await seedUser(rt)
    expect((await setKey(user.apiKeyId, 1)).status).toBe(200)
    expect(await oneMoreWhileHolding(1, user.apiKey)).toBe(429)
    // one chat on the key, one more on the JWT: within the user's 3
    expect(await oneMoreWhileHolding(1, user.apiKey, user.accessToken)).toBe(200)
    await setKey(user.apiKeyId, null)
    expect(await oneMoreWhileHolding(1, user.apiKey)).toBe(200)
  })
})

describe('who may set them, and with what', () => {
  test('only admins (a user gets 403); an unknown key or user is a 404; bad values are a 400 naming the field', async () => {
    const user = await seedUser(rt)
    const mine = await call(`/api/admin/keys/${user.apiKeyId}/`, { method: 'PATCH', json: { maxConcurrentRequests: 100 }, token: user.accessToken })
    expect(mine.status).toBe(403)
    expect((await setKey('no-such-key', 1)).status).toBe(404)
    expect((await setUser('no-such-user', 1)).status).toBe(404)
    for (const value of [-1, 1.5, '2', 100_001, true]) {
      for (const res of [await setUser(user.userId, value), await setKey(user.apiKeyId, value)]) {
        expect(res.status).toBe(400)
        expect((await res.json()).message).toContain('maxConcurrentRequests')
      }
    }
  })
})
