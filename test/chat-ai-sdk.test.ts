// The gateway on a real socket, driven by the Vercel AI SDK's OpenAI-compatible provider, the
// way apps built on that SDK use any OpenAI-compatible endpoint: text, usage, tool calls, and
// errors before and during a stream. Its parsers validate every chunk against their own schema.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import { APICallError, generateText, jsonSchema, streamText, tool } from 'ai'
import { afterAll, beforeEach, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { seedUser } from './support/users'

const fake = await startFakeOllama()
const { rt, app, close } = await testApp({ OLLAMA_BASE_URL: fake.url })
const server = listen(app)
const user = await seedUser(rt)
const studio = createOpenAICompatible({ name: 'studio', baseURL: `${server.url}/v1`, apiKey: user.apiKey, includeUsage: true })
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const weather = {
  get_weather: tool({
    description: 'Weather of a city',
    inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
  }),
}

test('generateText: the reply, its finish reason and Ollama’s token counts', async () => {
  const result = await generateText({ model: studio('llama3.2'), prompt: 'Hello', maxRetries: 0 })
  expect(result.text).toBe('tok0 tok1 tok2 tok3 tok4 ')
  expect(result.finishReason).toBe('stop')
  expect(result.usage.outputTokens).toBe(5)
  expect(result.usage.inputTokens).toBeGreaterThan(0)
})

test('streamText: the deltas make the reply; usage comes from the usage-only chunk', async () => {
  const result = streamText({ model: studio('llama3.2'), prompt: 'Hello', maxRetries: 0 })
  let text = ''
  for await (const delta of result.textStream) text += delta
  expect(text).toBe('tok0 tok1 tok2 tok3 tok4 ')
  expect(await result.finishReason).toBe('stop')
  expect((await result.usage).outputTokens).toBe(5)
  expect(fake.chats.at(-1)!.body.stream).toBe(true)
})

test('streamText with a tool: the call arrives with its parsed input', async () => {
  fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] })
  const result = streamText({ model: studio('llama3.2'), prompt: 'Weather in Oslo?', tools: weather, maxRetries: 0 })
  const calls = await result.toolCalls
  expect(calls).toHaveLength(1)
  expect(calls[0]).toMatchObject({ toolName: 'get_weather', input: { city: 'Oslo' } })
  expect(await result.finishReason).toBe('tool-calls')
  expect(fake.chats.at(-1)!.body.tools[0].function.name).toBe('get_weather')
})

test('an unknown model is an APICallError with status 404 and the gateway’s message', async () => {
  const error = await generateText({ model: studio('no-such-model'), prompt: 'Hello', maxRetries: 0 }).catch((error) => error)
  expect(APICallError.isInstance(error)).toBe(true)
  expect(error.statusCode).toBe(404)
  expect(error.message).toBe('The model named in the request does not exist on any configured Ollama host')
})

test('an upstream dying mid-stream reaches the app as an error part after the text so far', async () => {
  fake.set({ failAfter: 2, failWith: 'error' })
  const result = streamText({ model: studio('llama3.2'), prompt: 'Hello', maxRetries: 0, onError: () => {} })
  let text = ''
  const errors: unknown[] = []
  for await (const part of result.fullStream) {
    if (part.type === 'text-delta') text += part.text
    if (part.type === 'error') errors.push(part.error)
  }
  expect(text).toBe('tok0 tok1 ')
  expect(errors).toHaveLength(1)
  expect(JSON.stringify(errors[0])).toContain('llama runner process has terminated')
})
