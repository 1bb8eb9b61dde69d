// Clients that read slower than Ollama writes, on a real socket: the gateway waits on them
// (backpressure) without mistaking the wait for a silent upstream, and one that goes away
// while it waits still aborts Ollama and leaves nothing behind.
import { afterAll, beforeEach, expect, test } from 'bun:test'
import { factsOf } from '../src/telemetry/facts'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { seedUser } from './support/users'

const TIMEOUT_MS = 500
const fake = await startFakeOllama()
const { rt, app, close } = await testApp({ OLLAMA_BASE_URL: fake.url, UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) })
const server = listen(app)
const user = await seedUser(rt)
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

/** Big tokens: a few hundred fill the client's socket buffers, so the gateway has to wait. */
const bigTokens = (count: number) => Array.from({ length: count }, (_, i) => `${i} `.padEnd(65536, 'x'))

function streamChat(signal?: AbortSignal) {
  return fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }], stream: true }),
    signal,
  })
}

const lastChatRequest = () => server.received.findLast((r) => r.url.endsWith('/chat/completions'))!

async function inFlight() {
  const health = await (await fetch(`${server.url}/v1/health`, { headers: { authorization: `Bearer ${user.apiKey}` } })).json()
  return health.upstreams[0].inFlight
}

test('a client that pauses for longer than the upstream timeout still gets the whole reply', async () => {
  fake.set({ tokens: bigTokens(300) })
  const res = await streamChat()
  const reader = res.body!.getReader()
  await reader.read()
  await Bun.sleep(TIMEOUT_MS * 3)
  let text = ''
  const decoder = new TextDecoder()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
  }
  expect(text).not.toContain('event: error')
  expect(text).toContain('"finish_reason":"stop"')
  expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
  expect(fake.aborted).toHaveLength(0)
  const request = lastChatRequest()
  for (let waited = 0; !factsOf(request).ended && waited < 1000; waited += 5) await Bun.sleep(5)
  expect(factsOf(request)).toMatchObject({ outcome: 'ok', completionTokens: 300 })
  expect(await inFlight()).toBe(0)
})

test('a client that stops reading, then goes away, still aborts Ollama and leaves nothing in flight', async () => {
  // 64 KB a millisecond or so, for seconds: the fake is still writing when the client goes away.
  fake.set({ tokens: bigTokens(2000), chunkDelayMs: 1 })
  const controller = new AbortController()
  const res = await streamChat(controller.signal)
  const reader = res.body!.getReader()
  await reader.read()
  await Bun.sleep(300)
  controller.abort()
  const abortedAt = performance.now()
  // Read after the abort, so the response stays reachable until then: Bun's fetch closes the
  // connection of a response that is garbage-collected, which would make the client go away early.
  await reader.read().catch(() => {})
  for (let waited = 0; fake.aborted.length === 0 && waited < 1000; waited += 5) await Bun.sleep(5)
  expect(fake.aborted).toHaveLength(1)
  expect(fake.aborted[0]!.at - abortedAt).toBeLessThan(200)
  expect(fake.aborted[0]!.chunksSent).toBeLessThan(2000)
  const request = lastChatRequest()
  for (let waited = 0; !factsOf(request).ended && waited < 1000; waited += 5) await Bun.sleep(5)
  expect(factsOf(request)).toMatchObject({ outcome: 'cancelled', ended: true })
  expect(await inFlight()).toBe(0)
})
