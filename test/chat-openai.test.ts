// The gateway on a real socket, driven by the official `openai` SDK the way users drive it:
// streaming and not, usage, tool calls, models, errors as APIError, and cancellation that
// reaches Ollama within 200 ms of the client aborting.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI, { APIError } from 'openai'
import { factsOf } from '../src/telemetry/facts'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { seedUser } from './support/users'

const fake = await startFakeOllama()
const { rt, app, close } = await testApp({ OLLAMA_BASE_URL: fake.url })
const server = listen(app)
const user = await seedUser(rt)
const openai = new OpenAI({ apiKey: user.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const messages = [{ role: 'user' as const, content: 'Hello' }]
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
}

async function apiError(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(APIError)
    return error as APIError
  }
  throw new Error('expected an APIError')
}

/** The fake saw exactly one aborted request, within 200 ms of the client's abort. */
async function expectUpstreamAbortedSince(abortedAt: number) {
  for (let waited = 0; fake.aborted.length === 0 && waited < 1000; waited += 5) await Bun.sleep(5)
  expect(fake.aborted).toHaveLength(1)
  expect(fake.aborted[0]!.at - abortedAt).toBeLessThan(200)
}

describe('the openai SDK', () => {
  test('non-streaming: content, finish reason, usage', async () => {
    const completion = await openai.chat.completions.create({ model: 'llama3.2', messages })
    expect(completion.object).toBe('chat.completion')
    expect(completion.choices[0]!.message.content).toBe('tok0 tok1 tok2 tok3 tok4 ')
    expect(completion.choices[0]!.finish_reason).toBe('stop')
    expect(completion.usage).toMatchObject({ completion_tokens: 5, completionTokens: 5 })
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + 5)
  })

  test('streaming: deltas concatenate to the reply; usage rides on the last chunk', async () => {
    const stream = await openai.chat.completions.create({ model: 'llama3.2', messages, stream: true })
    let text = ''
    const chunks = []
    for await (const chunk of stream) {
      chunks.push(chunk)
      text += chunk.choices[0]?.delta.content ?? ''
    }
    expect(text).toBe('tok0 tok1 tok2 tok3 tok4 ')
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop')
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 5, completionTokens: 5 })
  })

  test('streaming with include_usage: the usage-only chunk comes last', async () => {
    const stream = await openai.chat.completions.create({ model: 'llama3.2', messages, stream: true, stream_options: { include_usage: true } })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.at(-1)!.choices).toEqual([])
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(5)
  })

  test("the SDK's stream helper assembles the final message", async () => {
    const runner = openai.chat.completions.stream({ model: 'llama3.2', messages })
    const final = await runner.finalChatCompletion()
    expect(final.choices[0]!.message.content).toBe('tok0 tok1 tok2 tok3 tok4 ')
  })

  test('tool calls, not streamed', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] })
    const completion = await openai.chat.completions.create({ model: 'llama3.2', messages, tools: [weatherTool] })
    const call = completion.choices[0]!.message.tool_calls![0]!
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls')
    expect(call.type).toBe('function')
    if (call.type !== 'function') throw new Error('expected a function call')
    expect(call.function.name).toBe('get_weather')
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Oslo' })
  })

  test('tool calls, streamed, assembled by the SDK', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] })
    const runner = openai.chat.completions.stream({ model: 'llama3.2', messages, tools: [weatherTool] })
    const final = await runner.finalChatCompletion()
    const call = final.choices[0]!.message.tool_calls![0]!
    expect(final.choices[0]!.finish_reason).toBe('tool_calls')
    if (call.type !== 'function') throw new Error('expected a function call')
    expect(call.function).toMatchObject({ name: 'get_weather', arguments: '{"city":"Oslo"}' })
  })

  test('models: list and retrieve (ids with ":" too)', async () => {
    const ids = []
    for await (const model of openai.models.list()) ids.push(model.id)
    expect(ids).toEqual(['llama3.2:latest', 'llava:7b', 'nomic-embed-text:latest'])
    const model = await openai.models.retrieve('llava:7b')
    expect(model).toMatchObject({ id: 'llava:7b', object: 'model', owned_by: 'library', contextLength: 4096, capabilities: ['completion', 'vision'] })
    expect((await openai.models.retrieve('llama3.2')).id).toBe('llama3.2:latest')
    expect((await apiError(openai.models.retrieve('nope'))).status).toBe(404)
  })

  test('errors surface as APIError with the right status and code', async () => {
    const notFound = await apiError(openai.chat.completions.create({ model: 'missing', messages }))
    expect(notFound.status).toBe(404)
    expect(notFound.code).toBe('model_not_found')
    const bad = await apiError(openai.chat.completions.create({ model: 'llama3.2', messages, temperature: 9 }))
    expect(bad.status).toBe(400)
    expect(bad.param).toBe('temperature')
    const unauthorized = await apiError(new OpenAI({ apiKey: 'sk-studio-wrong', baseURL: `${server.url}/v1`, maxRetries: 0 }).models.list())
    expect(unauthorized.status).toBe(401)
    fake.set({ chatStatus: 500 })
    expect((await apiError(openai.chat.completions.create({ model: 'llama3.2', messages }))).status).toBe(502)
  })

  test('an upstream dying mid-stream surfaces as an APIError after the content so far', async () => {
    fake.set({ failAfter: 2, chunkDelayMs: 2 })
    const stream = await openai.chat.completions.create({ model: 'llama3.2', messages, stream: true })
    let text = ''
    const error = await apiError(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      })(),
    )
    expect(text).toBe('tok0 tok1 ')
    expect(error.code).toBe('upstream_died')
  })
})

describe('cancellation', () => {
  test('a client abort mid-stream reaches Ollama within 200 ms, and is recorded as cancelled', async () => {
    fake.set({ chunks: 1000, chunkDelayMs: 20 })
    const stream = await openai.chat.completions.create({ model: 'llama3.2', messages, stream: true })
    let received = 0
    for await (const _ of stream) if (++received === 3) break // `break` aborts the SDK's request
    const abortedAt = performance.now()
    await expectUpstreamAbortedSince(abortedAt)
    expect(fake.aborted[0]!.chunksSent).toBeLessThan(20)
    expect(fake.active).toBe(0)

    const request = server.received.findLast((r) => r.url.endsWith('/chat/completions'))!
    for (let waited = 0; !factsOf(request).ended && waited < 1000; waited += 5) await Bun.sleep(5)
    expect(factsOf(request)).toMatchObject({ outcome: 'cancelled', streaming: true, ended: true, upstream: fake.url })
    expect(factsOf(request).completionTokens).toBeGreaterThanOrEqual(3)
  })

  test('a client abort of a non-streaming request reaches Ollama too', async () => {
    fake.set({ chunks: 1000, chunkDelayMs: 20 })
    const controller = new AbortController()
    const pending = openai.chat.completions.create({ model: 'llama3.2', messages }, { signal: controller.signal }).catch((error) => error)
    await Bun.sleep(100)
    controller.abort()
    const abortedAt = performance.now()
    await pending
    await expectUpstreamAbortedSince(abortedAt)
  })

  test('a client abort while Ollama has not answered yet reaches it too', async () => {
    fake.set({ hang: true })
    const controller = new AbortController()
    const pending = openai.chat.completions.create({ model: 'llama3.2', messages, stream: true }, { signal: controller.signal }).catch((error) => error)
    for (let waited = 0; fake.chats.length === 0 && waited < 1000; waited += 5) await Bun.sleep(5)
    controller.abort()
    const abortedAt = performance.now()
    await pending
    await expectUpstreamAbortedSince(abortedAt)
  })

  test('chunks are written as they arrive, not buffered', async () => {
    fake.set({ chunks: 3, chunkDelayMs: 150 })
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2', messages, stream: true }),
    })
    const reader = res.body!.getReader()
    const arrivals: number[] = []
    const decoder = new TextDecoder()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (decoder.decode(value).includes('"content":"tok')) arrivals.push(performance.now())
    }
    expect(arrivals).toHaveLength(3)
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThan(100)
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThan(100)
  })
})
