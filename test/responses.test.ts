// OpenAI's Responses API (issue 17, deliverable 2) through the official `openai` SDK on a real
// socket, against the fake Ollama: responses.create streamed and not (every object and every
// event checked against OpenAI's published schemas), a previous_response_id chain and the
// history it sends upstream, function tools round trip, structured output, thinking,
// max_output_tokens, conversations, retrieve / delete / input items, owner scoping, store: false,
// bad input (400 naming the field), a client leaving mid-stream, a failure mid-stream, the log row.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI, { APIError } from 'openai'
import type { ResponseStreamEvent } from 'openai/resources/responses/responses'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { startFakeOpenAiServer } from './support/fake-openai-server'
import { listen } from './support/listen'
import { logRows, settle } from './support/log'
import { expectConforms } from './support/openai-schemas'
import { onePixelPng } from './support/png'
import { seedUser } from './support/users'

const fake = await startFakeOllama()
const { rt, app, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '0', RATE_LIMIT_MODELS: '0' })
const server = listen(app)
const user = await seedUser(rt)
const other = await seedUser(rt)
const openai = new OpenAI({ apiKey: user.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
const otherClient = new OpenAI({ apiKey: other.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const REPLY = 'tok0 tok1 tok2 tok3 tok4 '
const png = (red: number) => `data:image/png;base64,${onePixelPng(red)}`
const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
}

/** The chat request the fake Ollama received last. */
const lastSent = () => fake.chats.at(-1)!.body

/** What the SDK added (`output_text`) taken off, leaving what the server sent. */
const asSent = <T extends object>(response: T) => {
  const { output_text: _, ...sent } = response as T & { output_text?: string }
  return sent
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

/** Reads a stream to its end, checking each event against OpenAI's schema and the sequence numbers. */
async function eventsOf(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = []
  for await (const event of stream) {
    expectConforms('ResponseStreamEvent', event)
    expect(event.sequence_number).toBe(events.length)
    events.push(event)
  }
  return events
}

const raw = (json: Record<string, unknown>, token = user.accessToken) =>
  call('/v1/responses', { method: 'POST', json: { model: 'llama3.2', ...json }, token })

describe('responses.create, not streamed', () => {
  test('a string input with instructions: the response object as OpenAI defines it; the SDK reads output_text', async () => {
    const response = await openai.responses.create({ model: 'llama3.2', input: 'Hello', instructions: 'Be brief.', metadata: { team: 'a' }, temperature: 0.5 })
    expectConforms('Response', asSent(response))
    expect(response.id).toMatch(/^resp_[0-9a-f]{32}$/)
    expect(response).toMatchObject({ object: 'response', status: 'completed', model: 'llama3.2', instructions: 'Be brief.', metadata: { team: 'a' }, temperature: 0.5, store: true })
    expect(response.output_text).toBe(REPLY)
    expect(response.output).toHaveLength(1)
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: REPLY, annotations: [] }] })
    expect(response.usage).toMatchObject({ output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 } })
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + 5)
    expect(response.usage!.input_tokens).toBeGreaterThan(0)
    expect(lastSent().messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }])
    expect(lastSent().options.temperature).toBe(0.5)
  })

  test('the server does not send output_text (the SDKs add it)', async () => {
    const res = await raw({ input: 'Hello' })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).not.toHaveProperty('output_text')
    expectConforms('Response', body)
  })

  test('input items: messages of every role, text and image parts', async () => {
    const image = png(200)
    const response = await openai.responses.create({
      model: 'llava:7b',
      input: [
        { role: 'developer', content: 'Answer in English.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is this?' }, { type: 'input_image', image_url: image, detail: 'auto' }] },
        { id: 'msg_earlier', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'A pixel.', annotations: [] }] },
        { role: 'user', content: 'Which colour?' },
      ],
    })
    expect(response.status).toBe('completed')
    const sent = lastSent().messages
    expect(sent.map((m: any) => [m.role, m.content])).toEqual([
      ['system', 'Answer in English.'],
      ['user', 'What is this?'],
      ['assistant', 'A pixel.'],
      ['user', 'Which colour?'],
    ])
    expect(sent[1].images).toEqual([image.slice(image.indexOf(',') + 1)])
  })

  test('a reasoning item sent back is listed among the input items but not shown to the model', async () => {
    const response = await openai.responses.create({
      model: 'llama3.2',
      input: [
        { role: 'user', content: 'First' },
        { id: 'rs_earlier', type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'I thought' }] },
        { role: 'assistant', content: 'Answer' },
        { role: 'user', content: 'Second' },
      ],
    })
    expect(lastSent().messages.map((m: any) => m.content)).toEqual(['First', 'Answer', 'Second'])
    const items = await openai.responses.inputItems.list(response.id, { order: 'asc' })
    expect(items.data[1]).toMatchObject({ id: 'rs_earlier', type: 'reasoning', content: [{ type: 'reasoning_text', text: 'I thought' }] })
  })

  test('Ollama failing mid-reply (not streamed) is a 502 in OpenAI\'s envelope, logged as an upstream error', async () => {
    fake.set({ failAfter: 2, failWith: 'error' })
    const res = await raw({ input: 'Hello' })
    expect(res.status).toBe(502)
    expect(((await res.json()) as any).error).toMatchObject({ type: 'upstream_error' })
    await settle(rt)
    const [row] = (await logRows(rt, (r) => r.path === '/v1/responses' && r.status === 502)).slice(-1)
    expect(row).toMatchObject({ outcome: 'upstream_error' })
  })

  test('max_output_tokens cuts the reply: status incomplete, incomplete_details says why', async () => {
    const response = await openai.responses.create({ model: 'llama3.2', input: 'Hello', max_output_tokens: 2 })
    expectConforms('Response', asSent(response))
    expect(lastSent().options.num_predict).toBe(2)
    expect(response.status).toBe('incomplete')
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' })
    expect(response.output_text).toBe('tok0 tok1 ')
    expect(response.max_output_tokens).toBe(2)
  })

  test('reasoning.effort asks the model to think: a reasoning item first, its tokens in the usage', async () => {
    fake.set({ thinking: 'Let me see.' })
    const response = await openai.responses.create({ model: 'llama3.2', input: 'Hello', reasoning: { effort: 'low' } })
    expectConforms('Response', asSent(response))
    expect(lastSent().think).toBe('low')
    expect(response.output.map((item) => item.type)).toEqual(['reasoning', 'message'])
    expect(response.output[0]).toMatchObject({ type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Let me see.' }] })
    expect(response.usage!.output_tokens_details.reasoning_tokens).toBe(1)
    expect(response.reasoning).toMatchObject({ effort: 'low' })
  })

  test('structured output: text.format json_schema reaches Ollama as its format; json_object as "json"', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false }
    const response = await openai.responses.create({ model: 'llama3.2', input: 'Hello', text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } } })
    expectConforms('Response', asSent(response))
    expect(lastSent().format).toEqual(schema)
    expect(response.text!.format).toEqual({ type: 'json_schema', name: 'answer', schema, strict: true })
    await openai.responses.create({ model: 'llama3.2', input: 'Hello', text: { format: { type: 'json_object' } } })
    expect(lastSent().format).toBe('json')
    await openai.responses.create({ model: 'llama3.2', input: 'Hello', text: { format: { type: 'text' } } })
    expect(lastSent().format).toBeUndefined()
  })
})

describe('responses.create, streamed', () => {
  test('the event sequence, each event as OpenAI defines it; deltas make the text; completed carries the response', async () => {
    const events = await eventsOf(await openai.responses.create({ model: 'llama3.2', input: 'Hello', stream: true }))
    const types = events.map((event) => event.type)
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array(5).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ])
    const deltas = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : []))
    expect(deltas.join('')).toBe(REPLY)
    const created = events[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>
    expect(created.response.status).toBe('in_progress')
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>
    expect(completed.response).toMatchObject({ id: created.response.id, status: 'completed', usage: { output_tokens: 5 } })
    expect(completed.response.output[0]).toMatchObject({ type: 'message', status: 'completed', content: [{ type: 'output_text', text: REPLY }] })
    const done = events.find((event) => event.type === 'response.output_text.done')!
    expect(done).toMatchObject({ text: REPLY, output_index: 0, content_index: 0 })
    // kept before the stream ended: retrievable at once, the same response
    expect(asSent(await openai.responses.retrieve(created.response.id))).toEqual(completed.response)
  })

  test("the SDK's stream helper assembles the final response", async () => {
    const stream = openai.responses.stream({ model: 'llama3.2', input: 'Hello' })
    const final = await stream.finalResponse()
    expect(final.output_text).toBe(REPLY)
    expect(final.status).toBe('completed')
  })

  test('thinking streams as reasoning_text deltas in a reasoning item before the message', async () => {
    fake.set({ thinking: 'Let me see.' })
    const events = await eventsOf(await openai.responses.create({ model: 'llama3.2', input: 'Hello', reasoning: { effort: 'high' }, stream: true }))
    const types = events.map((event) => event.type)
    expect(types.slice(0, 8)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
    ])
    expect(events[4]).toMatchObject({ delta: 'Let me see.', output_index: 0 })
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>
    expect(completed.response.output.map((item) => item.type)).toEqual(['reasoning', 'message'])
    expect(completed.response.usage!.output_tokens_details.reasoning_tokens).toBe(1)
  })

  test('cut by max_output_tokens: the stream ends with response.incomplete', async () => {
    const events = await eventsOf(await openai.responses.create({ model: 'llama3.2', input: 'Hello', max_output_tokens: 3, stream: true }))
    const last = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.incomplete' }>
    expect(last.type).toBe('response.incomplete')
    expect(last.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } })
    expect(last.response.output[0]).toMatchObject({ status: 'incomplete', content: [{ text: 'tok0 tok1 tok2 ' }] })
  })

  test('a failure mid-stream: response.failed, then an error event the SDK raises; the response is kept as failed', async () => {
    fake.set({ failAfter: 2, failWith: 'drop' })
    const events: ResponseStreamEvent[] = []
    const error = await apiError(
      (async () => {
        for await (const event of await openai.responses.create({ model: 'llama3.2', input: 'Hello', stream: true })) {
          expectConforms('ResponseStreamEvent', event)
          events.push(event)
        }
      })(),
    )
    expect(error.message).toContain('stopped mid-reply')
    const failed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.failed' }>
    expect(failed.type).toBe('response.failed')
    expect(failed.response.status).toBe('failed')
    expect(failed.response.error).toMatchObject({ code: 'server_error' })
    expect(failed.response.output[0]).toMatchObject({ status: 'incomplete', content: [{ text: 'tok0 tok1 ' }] })
    await settle(rt)
    expect((await openai.responses.retrieve(failed.response.id)).status).toBe('failed')
  })

  test('a client leaving mid-stream aborts the upstream request; the response is not kept', async () => {
    fake.set({ chunks: 200, chunkDelayMs: 20 })
    const controller = new AbortController()
    const stream = await openai.responses.create({ model: 'llama3.2', input: 'Hello', stream: true }, { signal: controller.signal })
    let id = ''
    let deltas = 0
    await apiError(
      (async () => {
        for await (const event of stream) {
          if (event.type === 'response.created') id = event.response.id
          if (event.type === 'response.output_text.delta' && ++deltas === 2) controller.abort()
        }
      })(),
    ).catch(() => undefined)
    for (let waited = 0; fake.aborted.length === 0 && waited < 2000; waited += 10) await Bun.sleep(10)
    expect(fake.aborted).toHaveLength(1)
    expect(fake.aborted[0]!.chunksSent).toBeLessThan(200)
    await settle(rt)
    const [row] = await logRows(rt, (r) => r.path === '/v1/responses' && r.outcome === 'cancelled')
    expect(row).toBeDefined()
    expect((await apiError(openai.responses.retrieve(id))).status).toBe(404)
  })
})

describe('previous_response_id', () => {
  test('the stored chain is the history: each turn\'s input, then its output; instructions are not carried over', async () => {
    const first = await openai.responses.create({ model: 'llama3.2', input: 'First', instructions: 'Be brief.' })
    const second = await openai.responses.create({ model: 'llama3.2', input: 'Second', previous_response_id: first.id })
    expect(second.previous_response_id).toBe(first.id)
    expect(lastSent().messages).toEqual([
      { role: 'user', content: 'First' },
      { role: 'assistant', content: REPLY },
      { role: 'user', content: 'Second' },
    ])
    const third = await openai.responses.create({ model: 'llama3.2', input: [{ role: 'user', content: 'Third' }], previous_response_id: second.id, instructions: 'Now in French.' })
    expect(lastSent().messages.map((m: any) => [m.role, m.content])).toEqual([
      ['system', 'Now in French.'],
      ['user', 'First'],
      ['assistant', REPLY],
      ['user', 'Second'],
      ['assistant', REPLY],
      ['user', 'Third'],
    ])
    expect(third.status).toBe('completed')
  })

  test('streamed responses chain the same way', async () => {
    const first = await openai.responses.stream({ model: 'llama3.2', input: 'First' }).finalResponse()
    await openai.responses.create({ model: 'llama3.2', input: 'Second', previous_response_id: first.id })
    expect(lastSent().messages.map((m: any) => m.content)).toEqual(['First', REPLY, 'Second'])
  })

  test("an unknown id, or another user's, is a 404 naming the field; nothing goes upstream", async () => {
    const mine = await openai.responses.create({ model: 'llama3.2', input: 'Mine' })
    const before = fake.chats.length
    for (const client of [otherClient, openai]) {
      const error = await apiError(client.responses.create({ model: 'llama3.2', input: 'x', previous_response_id: client === otherClient ? mine.id : 'resp_nope' }))
      expect(error.status).toBe(404)
      expect(error.param).toBe('previous_response_id')
    }
    expect(fake.chats.length).toBe(before)
  })
})

describe('function tools', () => {
  test('round trip: a function_call, then its function_call_output chained by previous_response_id', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] })
    const asked = await openai.responses.create({ model: 'llama3.2', input: 'Weather in Oslo?', tools: [weatherTool], tool_choice: 'auto' })
    expectConforms('Response', asSent(asked))
    expect(lastSent().tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: weatherTool.parameters, strict: true } }])
    expect(asked.output).toHaveLength(1)
    const call = asked.output[0]!
    if (call.type !== 'function_call') throw new Error('expected a function call')
    expect(call).toMatchObject({ name: 'get_weather', status: 'completed' })
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Oslo' })
    expect(asked.output_text).toBe('')
    expect(asked.tools).toEqual([weatherTool])

    fake.set({ toolCalls: undefined })
    const answered = await openai.responses.create({
      model: 'llama3.2',
      previous_response_id: asked.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"celsius": 3}' }],
      tools: [weatherTool],
    })
    expect(answered.output_text).toBe(REPLY)
    expect(lastSent().messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Oslo' } } }] },
      { role: 'tool', content: '{"celsius": 3}', tool_name: 'get_weather' },
    ])
  })

  test('stateless (store: false): the call and its output sent back as input items', async () => {
    await openai.responses.create({
      model: 'llama3.2',
      store: false,
      input: [
        { role: 'user', content: 'Weather in Oslo?' },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'sunny' }] },
      ],
      tools: [weatherTool],
    })
    expect(lastSent().messages.slice(1)).toEqual([
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Oslo' } } }] },
      { role: 'tool', content: 'sunny', tool_name: 'get_weather' },
    ])
  })

  test('streamed: the call is added, its arguments delta and done, then the item done', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] })
    const events = await eventsOf(await openai.responses.create({ model: 'llama3.2', input: 'Weather?', tools: [weatherTool], stream: true }))
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ])
    expect(events[4]).toMatchObject({ name: 'get_weather', arguments: '{"city":"Oslo"}', output_index: 0 })
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>
    expect(completed.response.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' })
  })

  test("tool_choice: 'none' sends no tools; a named function sends only that one", async () => {
    const clock = { type: 'function' as const, name: 'clock', parameters: null, strict: false }
    await openai.responses.create({ model: 'llama3.2', input: 'x', tools: [weatherTool, clock], tool_choice: 'none' })
    expect(lastSent().tools).toBeUndefined()
    await openai.responses.create({ model: 'llama3.2', input: 'x', tools: [weatherTool, clock], tool_choice: { type: 'function', name: 'clock' } })
    expect(lastSent().tools.map((tool: any) => tool.function.name)).toEqual(['clock'])
  })
})

describe('retrieve, delete, input items', () => {
  test('retrieve answers the stored response; delete removes it (then 404 for both)', async () => {
    const created = await openai.responses.create({ model: 'llama3.2', input: 'Keep me' })
    const retrieved = await openai.responses.retrieve(created.id)
    expectConforms('Response', asSent(retrieved))
    expect(asSent(retrieved)).toEqual(asSent(created))
    expect(retrieved.output_text).toBe(REPLY)
    const res = await call(`/v1/responses/${created.id}`, { method: 'DELETE', token: user.accessToken })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ id: created.id, object: 'response', deleted: true })
    expect((await apiError(openai.responses.retrieve(created.id))).status).toBe(404)
    expect((await apiError(openai.responses.delete(created.id))).status).toBe(404)
  })

  test('the SDK deletes too; a chain whose earlier response was deleted reads from where it can', async () => {
    const first = await openai.responses.create({ model: 'llama3.2', input: 'First' })
    const second = await openai.responses.create({ model: 'llama3.2', input: 'Second', previous_response_id: first.id })
    await openai.responses.delete(first.id)
    await openai.responses.create({ model: 'llama3.2', input: 'Third', previous_response_id: second.id })
    expect(lastSent().messages.map((m: any) => m.content)).toEqual(['Second', REPLY, 'Third'])
  })

  test('input items: ids, newest first by default, pages by limit and after, as OpenAI lists them', async () => {
    const created = await openai.responses.create({
      model: 'llama3.2',
      input: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'input_text', text: 'One' }, { type: 'input_image', image_url: png(1), detail: 'low' }] },
        { role: 'assistant', content: 'Two' },
        { type: 'function_call', call_id: 'call_9', name: 'get_weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_9', output: 'rain' },
        { role: 'user', content: 'Three' },
      ],
      tools: [weatherTool],
    })
    const all = await call(`/v1/responses/${created.id}/input_items`, { token: user.accessToken })
    const list = expectConforms('ResponseItemList', (await all.json()) as any)
    expect(list.data.map((item: any) => item.type)).toEqual(['message', 'function_call_output', 'function_call', 'message', 'message', 'message'])
    expect(list.data[0]).toMatchObject({ role: 'user', content: [{ type: 'input_text', text: 'Three' }] })
    expect(list.data[3]).toMatchObject({ role: 'assistant', content: [{ type: 'output_text', text: 'Two' }] })
    expect(list.data[4].content[1]).toMatchObject({ type: 'input_image', detail: 'low' })
    expect(list.has_more).toBe(false)
    expect(list.first_id).toBe(list.data[0].id)
    expect(new Set(list.data.map((item: any) => item.id)).size).toBe(6)

    const firstPage = await openai.responses.inputItems.list(created.id, { limit: 4, order: 'asc' })
    expect(firstPage.data.map((item: any) => item.id)).toEqual(list.data.slice(2).reverse().map((item: any) => item.id))
    expect(firstPage.has_more).toBe(true)
    const ids: string[] = []
    for await (const item of openai.responses.inputItems.list(created.id, { limit: 2, order: 'asc' })) ids.push(item.id!)
    expect(ids).toEqual(list.data.map((item: any) => item.id).reverse())
  })

  test("another user's response is a 404 for retrieve, delete and input items, and stays there", async () => {
    const mine = await openai.responses.create({ model: 'llama3.2', input: 'Mine' })
    expect((await apiError(otherClient.responses.retrieve(mine.id))).status).toBe(404)
    expect((await apiError(otherClient.responses.delete(mine.id))).status).toBe(404)
    expect((await apiError(otherClient.responses.inputItems.list(mine.id))).status).toBe(404)
    const res = await call(`/v1/responses/${mine.id}`, { token: other.accessToken })
    expect(await res.json()).toEqual({ error: { message: 'You have no stored response with this id', type: 'not_found_error', param: null, code: 'response_not_found' } })
    expect((await openai.responses.retrieve(mine.id)).id).toBe(mine.id)
  })

  test('store: false answers the same but keeps nothing', async () => {
    const response = await openai.responses.create({ model: 'llama3.2', input: 'Forget me', store: false })
    expect(response).toMatchObject({ store: false, status: 'completed', output_text: REPLY })
    expect((await apiError(openai.responses.retrieve(response.id))).status).toBe(404)
    const error = await apiError(openai.responses.create({ model: 'llama3.2', input: 'x', previous_response_id: response.id }))
    expect(error.status).toBe(404)
  })

  test('without credentials: 401 in OpenAI\'s envelope', async () => {
    const res = await call('/v1/responses/resp_x')
    expect(res.status).toBe(401)
    expect(((await res.json()) as any).error.type).toBe('authentication_error')
  })
})

describe('conversation', () => {
  test('the conversation is the history, and the new turn is kept in it', async () => {
    const made = (await (await call('/api/conversations/', { method: 'POST', json: {}, token: user.accessToken })).json()) as any
    const first = await openai.responses.create({ model: 'llama3.2', input: 'Hi there', conversation: made.id })
    expect(first.conversation).toEqual({ id: made.id })
    expectConforms('Response', asSent(first))
    expect(lastSent().messages).toEqual([{ role: 'user', content: 'Hi there' }])
    const stream = openai.responses.stream({ model: 'llama3.2', input: 'Again', conversation: { id: made.id }, instructions: 'Be brief.' })
    await stream.finalResponse()
    expect(lastSent().messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi there' },
      { role: 'assistant', content: REPLY },
      { role: 'user', content: 'Again' },
    ])
    let kept: any[] = []
    for (let waited = 0; kept.length < 4 && waited < 2000; waited += 10) {
      kept = (await rt.store.conversations.messages(made.id, 100)).map((m) => [m.role, m.content, m.state])
      if (kept.length < 4) await Bun.sleep(10)
    }
    expect(kept).toEqual([
      ['user', 'Hi there', 'complete'],
      ['assistant', REPLY, 'complete'],
      ['user', 'Again', 'complete'],
      ['assistant', REPLY, 'complete'],
    ])
  })

  test("another user's conversation is a 404; with previous_response_id it is a 400", async () => {
    const made = (await (await call('/api/conversations/', { method: 'POST', json: {}, token: user.accessToken })).json()) as any
    expect((await apiError(otherClient.responses.create({ model: 'llama3.2', input: 'x', conversation: made.id }))).status).toBe(404)
    const both = await apiError(openai.responses.create({ model: 'llama3.2', input: 'x', conversation: made.id, previous_response_id: 'resp_x' }))
    expect(both.status).toBe(400)
    expect(both.param).toBe('conversation')
  })
})

describe('bad input: a 400 naming the field, in OpenAI\'s envelope, never echoing the value', () => {
  const SECRET = 'hunter2-secret-value'
  const cases: [string, Record<string, unknown>, string][] = [
    ['a hosted tool', { input: 'x', tools: [{ type: 'web_search' }] }, 'tools.0.type'],
    ['an unknown tool type', { input: 'x', tools: [{ type: SECRET }] }, 'tools.0.type'],
    ['a function tool without a name', { input: 'x', tools: [{ type: 'function', parameters: {} }] }, 'tools.0.name'],
    ['input of the wrong type', { input: 42 }, 'input'],
    ['a message of an unknown role', { input: [{ type: 'message', role: SECRET, content: 'x' }] }, 'input.0.role'],
    ['an unknown item type', { input: [{ type: SECRET }] }, 'input.0.type'],
    ['an unknown content part', { input: [{ role: 'user', content: [{ type: SECRET, text: 'x' }] }] }, 'input.0.content.0.type'],
    ['a remote image', { input: [{ role: 'user', content: [{ type: 'input_image', image_url: `https://example.com/${SECRET}.png` }] }] }, 'input.0.content.0.image_url'],
    ['function_call arguments that are not JSON', { input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: SECRET }] }, 'input.0.arguments'],
    ['a function_call_output without a call id', { input: [{ type: 'function_call_output', output: 'x' }] }, 'input.0.call_id'],
    ['temperature out of range', { input: 'x', temperature: 7 }, 'temperature'],
    ['max_output_tokens not an integer', { input: 'x', max_output_tokens: 1.5 }, 'max_output_tokens'],
    ['a json_schema format without a schema', { input: 'x', text: { format: { type: 'json_schema', name: 'a' } } }, 'text.format.schema'],
    ['an unknown reasoning effort', { input: 'x', reasoning: { effort: SECRET } }, 'reasoning.effort'],
    ['tool_choice naming no tool', { input: 'x', tools: [weatherTool], tool_choice: { type: 'function', name: SECRET } }, 'tool_choice.name'],
    ['store not a boolean', { input: 'x', store: SECRET }, 'store'],
    ['a conversation that is no id', { input: 'x', conversation: SECRET }, 'conversation'],
    ['metadata not string pairs', { input: 'x', metadata: { a: 1 } }, 'metadata'],
    ['background', { input: 'x', background: true }, 'background'],
    ['no input at all', {}, 'input'],
  ]
  test.each(cases)('%s', async (_, json, param) => {
    const before = fake.chats.length
    const res = await raw(json)
    const text = await res.text()
    expect({ status: res.status, text }).toMatchObject({ status: 400 })
    const { error } = JSON.parse(text)
    expect(error.param).toBe(param)
    expect(error.type).toBe('invalid_request_error')
    expect(error.message).toContain(param)
    expect(text).not.toContain(SECRET)
    expect(fake.chats.length).toBe(before)
  })

  test('the refusal of a hosted tool names it; the SDK raises BadRequestError', async () => {
    const error = await apiError(openai.responses.create({ model: 'llama3.2', input: 'x', tools: [{ type: 'web_search' }] }))
    expect(error.status).toBe(400)
    expect(error.constructor.name).toBe('BadRequestError')
    expect(error.message).toContain("only function tools are supported; 'web_search' tools are not")
  })

  test('an unknown model is a 404 from the pool', async () => {
    expect((await apiError(openai.responses.create({ model: 'missing', input: 'x' }))).status).toBe(404)
  })
})

test('each request is one row of the request log, its path /v1/responses', async () => {
  const response = await openai.responses.create({ model: 'llama3.2', input: 'Log me', user: 'end-user-7', metadata: { run: 'log' } })
  await settle(rt)
  const rows = await logRows(rt, (row) => row.path === '/v1/responses' && row.status === 200 && row.userId === user.userId)
  const row = rows.at(-1)!
  expect(row).toMatchObject({ method: 'POST', model: 'llama3.2', completionTokens: 5, outcome: 'ok' })
  expect(row.promptTokens).toBe(response.usage!.input_tokens)
  expect(row.completionId).toBe(`chatcmpl-${response.id.slice('resp_'.length)}`)
})

describe('the same pipeline as chat: an OpenAI-compatible upstream, the response cache', async () => {
  const vllm = await startFakeOpenAiServer({ models: ['qwen-vllm'], reasoning: ['Thinking', ' hard'] })
  const piped = await testApp({ OLLAMA_BASE_URL: fake.url, OPENAI_UPSTREAMS: `vllm=${vllm.url}`, CACHE_TTL_SECONDS: '60', RATE_LIMIT_CHAT: '0' })
  const pipedServer = listen(piped.app)
  const pipedUser = await seedUser(piped.rt)
  const client = new OpenAI({ apiKey: pipedUser.apiKey, baseURL: `${pipedServer.url}/v1`, maxRetries: 0 })
  afterAll(async () => {
    pipedServer.stop()
    await piped.close()
    vllm.stop()
  })

  test('a model of an OpenAI-compatible server: its reasoning and text stream as Responses events', async () => {
    const events = await eventsOf(await client.responses.create({ model: 'qwen-vllm', input: 'Hi', instructions: 'Be brief.', stream: true }))
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: 'response.completed' }>
    expect(completed.type).toBe('response.completed')
    expect(completed.response.output.map((item) => item.type)).toEqual(['reasoning', 'message'])
    expect(completed.response.output[0]).toMatchObject({ content: [{ type: 'reasoning_text', text: 'Thinking hard' }] })
    expect(completed.response.output[1]).toMatchObject({ content: [{ type: 'output_text', text: 'Hello from vLLM' }] })
    expect(vllm.requests.at(-1)!.body.messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }])
  })

  test('the same request twice: the second is answered from the response cache, as a response of its own', async () => {
    const ask = () => piped.call('/v1/responses', { method: 'POST', json: { model: 'llama3.2', input: 'Cache me' }, token: pipedUser.accessToken })
    const first = await ask()
    expect(first.headers.get('x-cache')).toBe('MISS')
    const chats = fake.chats.length
    const second = await ask()
    expect(second.headers.get('x-cache')).toBe('HIT')
    expect(fake.chats.length).toBe(chats)
    const [a, b] = [(await first.json()) as any, (await second.json()) as any]
    expectConforms('Response', b)
    expect(b.id).not.toBe(a.id)
    expect(b.output[0].content).toEqual(a.output[0].content)
    expect(b.usage).toEqual(a.usage)
  })
})

describe('history is bounded', () => {
  test('a previous_response_id chain larger than the history budget (8 × MAX_BODY_BYTES of JSON) is a 400 naming it, not a read of it all', async () => {
    const small = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '0', MAX_BODY_BYTES: '4096' })
    try {
      const { apiKey } = await seedUser(small.rt)
      const ask = (previous?: string) =>
        small.call('/v1/responses', { method: 'POST', token: apiKey, json: { model: 'llama3.2', input: 'x'.repeat(3000), ...(previous ? { previous_response_id: previous } : {}) } })
      let previous: string | undefined
      let refused: Response | undefined
      for (let turn = 0; turn < 20 && !refused; turn++) {
        const res = await ask(previous)
        if (res.status === 200) previous = ((await res.json()) as { id: string }).id
        else refused = res
      }
      expect(refused?.status).toBe(400)
      expect(((await refused!.json()) as any).error).toMatchObject({ code: 'history_too_large', param: 'previous_response_id' })
    } finally {
      await small.close()
    }
  })
})
