// Anthropic's Messages API, POST /v1/messages (issue 17, part 1), through the official
// @anthropic-ai/sdk on a real listener in front of the fake Ollama: plain and streamed replies
// (the exact event sequence), messages.stream().finalMessage(), a tool-use round trip, thinking,
// stop sequences, max_tokens, the SDK's error classes from Anthropic's error envelope, x-api-key,
// a client that goes away mid-stream, and the request log row. Bad input is a 400 naming the
// field, never echoing the value.
import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { factsOf } from '../src/telemetry/facts'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { logRows, settle } from './support/log'
import { onePixelPng } from './support/png'
import { parseSse } from './support/sse'
import { seedUser } from './support/users'

const fake = await startFakeOllama({ thinking: 'Let me think.' })
const { rt, app, close } = await testApp({ OLLAMA_BASE_URL: fake.url, MAX_OUTPUT_TOKENS: '4096' })
const server = listen(app)
const user = await seedUser(rt)
const anthropic = new Anthropic({ apiKey: user.apiKey, baseURL: server.url, maxRetries: 0 })
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const REPLY = 'tok0 tok1 tok2 tok3 tok4 '
const PNG = onePixelPng(200)
const hello = [{ role: 'user' as const, content: 'Hello' }]
/** What the gateway sent Ollama last. */
const lastChat = () => fake.chats.at(-1)!.body
const post = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${user.apiKey}` }) =>
  fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

/** The error an SDK call fails with. */
async function failure(pending: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const error = await pending.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(Anthropic.APIError)
  return error as InstanceType<typeof Anthropic.APIError>
}

describe('messages.create, not streamed', () => {
  test("a text reply as Anthropic's message; the request reached Ollama as a chat", async () => {
    const message = await anthropic.messages.create({
      model: 'llama3.2',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: [{ type: 'text', text: 'Part one.' }, { type: 'text', text: 'Part two.' }] },
      ],
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
    } as Anthropic.MessageCreateParamsNonStreaming)
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: 'llama3.2', stop_reason: 'end_turn', stop_sequence: null })
    expect(message.id).toMatch(/^msg_[0-9a-f]{32}$/)
    expect(message.content).toEqual([{ type: 'text', text: REPLY } as Anthropic.TextBlock])
    const sent = lastChat()
    expect(message.usage).toEqual({ input_tokens: Math.ceil(JSON.stringify(sent.messages).length / 4), output_tokens: 5 } as Anthropic.Usage)
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi!' },
      { role: 'user', content: 'Part one.\nPart two.' },
    ])
    expect(sent.options).toEqual({ temperature: 0.5, top_p: 0.9, top_k: 40, num_predict: 100 })
    expect(sent.think).toBeUndefined()
    expect(sent.tools).toBeUndefined()
  })

  test('system as text blocks, and a system message among the messages', async () => {
    await anthropic.messages.create({
      model: 'llama3.2',
      max_tokens: 10,
      system: [{ type: 'text', text: 'One.' }, { type: 'text', text: 'Two.', cache_control: { type: 'ephemeral' } }],
      messages: hello,
    })
    expect(lastChat().messages[0]).toEqual({ role: 'system', content: 'One.\nTwo.' })
  })

  test('a base64 image block reaches Ollama as the image bytes', async () => {
    await anthropic.messages.create({
      model: 'llava:7b',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
    })
    expect(lastChat().messages).toEqual([{ role: 'user', content: 'What is this?', images: [PNG] }])
  })

  test('max_tokens caps the reply: stop_reason max_tokens; above MAX_OUTPUT_TOKENS it is clamped', async () => {
    const message = await anthropic.messages.create({ model: 'llama3.2', max_tokens: 3, messages: hello })
    expect(message.stop_reason).toBe('max_tokens')
    expect(message.content).toEqual([{ type: 'text', text: 'tok0 tok1 tok2 ' } as Anthropic.TextBlock])
    expect(message.usage.output_tokens).toBe(3)
    // (The SDK wants such a request streamed.)
    await anthropic.messages.stream({ model: 'llama3.2', max_tokens: 100_000, messages: hello }).finalMessage()
    expect(lastChat().options.num_predict).toBe(4096)
  })

  test('stop_sequences reach Ollama as its stop option', async () => {
    const message = await anthropic.messages.create({ model: 'llama3.2', max_tokens: 50, stop_sequences: ['\n\nHuman:', 'END'], messages: hello })
    expect(lastChat().options.stop).toEqual(['\n\nHuman:', 'END'])
    // Ollama ends a reply "stop" whether a stop sequence or the model ended it.
    expect(message.stop_reason).toBe('end_turn')
    expect(message.stop_sequence).toBeNull()
  })

  test('output_config.format asks Ollama for that JSON Schema', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] }
    await anthropic.messages.create({ model: 'llama3.2', max_tokens: 50, messages: hello, output_config: { format: { type: 'json_schema', schema } } })
    expect(lastChat().format).toEqual(schema)
  })
})

describe('thinking', () => {
  test('enabled: a thinking block before the text; the budget sets how hard Ollama thinks', async () => {
    const message = await anthropic.messages.create({ model: 'llama3.2', max_tokens: 16000, thinking: { type: 'enabled', budget_tokens: 10000 }, messages: hello })
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Let me think.', signature: '' },
      { type: 'text', text: REPLY },
    ] as Anthropic.ContentBlock[])
    expect(lastChat().think).toBe('medium')
  })

  test.each([
    [{ type: 'enabled', budget_tokens: 4000 }, 'low'],
    [{ type: 'enabled', budget_tokens: 31999 }, 'high'],
    [{ type: 'adaptive' }, 'medium'],
    [{ type: 'disabled' }, false],
  ] as const)('%j → think %p', async (thinking, think) => {
    const message = await anthropic.messages.stream({ model: 'llama3.2', max_tokens: 32000, thinking: thinking as Anthropic.ThinkingConfigParam, messages: hello }).finalMessage()
    expect(lastChat().think).toBe(think)
    expect(message.content.some((block) => block.type === 'thinking')).toBe(think !== false)
  })

  test('output_config.effort sets the level; display "omitted" sends thinking blocks without their text', async () => {
    const message = await anthropic.messages.create({
      model: 'llama3.2',
      max_tokens: 4000,
      thinking: { type: 'adaptive', display: 'omitted' },
      output_config: { effort: 'max' },
      messages: hello,
    })
    expect(lastChat().think).toBe('high')
    expect(message.content[0]).toEqual({ type: 'thinking', thinking: '', signature: '' } as Anthropic.ThinkingBlock)
  })

  test('thinking blocks passed back in an assistant turn are dropped', async () => {
    await anthropic.messages.create({
      model: 'llama3.2',
      max_tokens: 50,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'secret musing', signature: '' }, { type: 'text', text: 'Hello.' }] },
        { role: 'user', content: 'Again' },
      ],
    })
    expect(lastChat().messages[1]).toEqual({ role: 'assistant', content: 'Hello.' })
    expect(JSON.stringify(lastChat())).not.toContain('secret musing')
  })

  test('a budget not below max_tokens is a 400, as Anthropic answers', async () => {
    const error = await failure(anthropic.messages.create({ model: 'llama3.2', max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 2000 }, messages: hello }))
    expect(error).toBeInstanceOf(Anthropic.BadRequestError)
    expect(error.message).toContain('thinking.budget_tokens')
  })
})

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}

describe('tool use', () => {
  test('round trip: tool_use comes back with its input; the tool_result goes to Ollama as a tool message', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] })
    const first = await anthropic.messages.create({ model: 'llama3.2', max_tokens: 100, tools: [weatherTool], tool_choice: { type: 'auto' }, messages: [{ role: 'user', content: 'Weather in Paris?' }] })
    expect(first.stop_reason).toBe('tool_use')
    expect(first.content).toHaveLength(1)
    const use = first.content[0] as Anthropic.ToolUseBlock
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } })
    expect(use.id).toBeString()
    expect(lastChat().tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: weatherTool.input_schema } }])

    fake.set({ toolCalls: undefined })
    const second = await anthropic.messages.create({
      model: 'llama3.2',
      max_tokens: 100,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18 °C, sunny' }, { type: 'text', text: 'And tomorrow?' }] },
      ],
    })
    expect(second.content).toEqual([{ type: 'text', text: REPLY } as Anthropic.TextBlock])
    expect(lastChat().messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
      { role: 'tool', content: '18 °C, sunny', tool_name: 'get_weather' },
      { role: 'user', content: 'And tomorrow?' },
    ])
  })

  test('tool_result content as blocks; tool_choice tool sends only that tool, none sends no tools', async () => {
    const other: Anthropic.Tool = { name: 'other', input_schema: { type: 'object' } }
    await anthropic.messages.create({
      model: 'llama3.2',
      max_tokens: 100,
      tools: [weatherTool, other],
      tool_choice: { type: 'tool', name: 'other', disable_parallel_tool_use: true },
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'other', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] },
      ],
    })
    expect(lastChat().tools.map((tool: any) => tool.function.name)).toEqual(['other'])
    expect(lastChat().messages[1]).toEqual({ role: 'tool', content: 'a\nb', tool_name: 'other' })
    await anthropic.messages.create({ model: 'llama3.2', max_tokens: 100, tools: [weatherTool], tool_choice: { type: 'none' }, messages: hello })
    expect(lastChat().tools).toBeUndefined()
  })

  test('streamed: each tool_use is a block with its input in one input_json_delta; finalMessage has the parsed input', async () => {
    fake.set({ toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }, { name: 'get_weather', arguments: { city: 'Oslo' } }] })
    const stream = anthropic.messages.stream({ model: 'llama3.2', max_tokens: 100, tools: [weatherTool], messages: [{ role: 'user', content: 'Paris and Oslo?' }] })
    const events: Anthropic.MessageStreamEvent[] = []
    stream.on('streamEvent', (event) => events.push(event))
    const message = await stream.finalMessage()
    expect(message.stop_reason).toBe('tool_use')
    expect(message.content.map((block) => (block as Anthropic.ToolUseBlock).input)).toEqual([{ city: 'Paris' }, { city: 'Oslo' }])
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'message_delta', 'message_stop',
    ])
    expect(events[2]).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"city":"Paris"}' } })
    expect((events[4] as Anthropic.RawContentBlockStartEvent).index).toBe(1)
  })
})

describe('streaming', () => {
  test("the exact event sequence on the wire: message_start, ping, each block's start/deltas/stop, message_delta, message_stop", async () => {
    const res = await post({ model: 'llama3.2', max_tokens: 3000, stream: true, thinking: { type: 'enabled', budget_tokens: 2000 }, messages: hello })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const events = parseSse(await res.text())
    for (const event of events) expect(JSON.parse(event.data).type).toBe(event.event!)
    expect(events.map((event) => event.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'content_block_start', ...Array(5).fill('content_block_delta'), 'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    const data = events.map((event) => JSON.parse(event.data))
    expect(data[0].message).toMatchObject({ type: 'message', role: 'assistant', model: 'llama3.2', content: [], stop_reason: null, usage: { output_tokens: 0 } })
    expect(data[2]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } })
    expect(data[3]).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think.' } })
    expect(data[5]).toEqual({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } })
    expect(data[6]).toEqual({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'tok0 ' } })
    expect(data[11]).toEqual({ type: 'content_block_stop', index: 1 })
    expect(data[12]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: Math.ceil(JSON.stringify(lastChat().messages).length / 4), output_tokens: 6 },
    })
  })

  test('messages.create({stream: true}) through the SDK: its events in order, the text as sent', async () => {
    const stream = await anthropic.messages.create({ model: 'llama3.2', max_tokens: 100, stream: true, messages: hello })
    const types: string[] = []
    let text = ''
    for await (const event of stream) {
      types.push(event.type)
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text
    }
    // The SDK leaves pings out.
    expect(types).toEqual(['message_start', 'content_block_start', ...Array(5).fill('content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop'])
    expect(text).toBe(REPLY)
  })

  test('messages.stream(...).finalMessage(): the whole message, text events as they came', async () => {
    const stream = anthropic.messages.stream({ model: 'llama3.2', max_tokens: 4, messages: hello })
    const texts: string[] = []
    stream.on('text', (text) => texts.push(text))
    const message = await stream.finalMessage()
    expect(texts).toEqual(['tok0 ', 'tok1 ', 'tok2 ', 'tok3 '])
    expect(message).toMatchObject({ role: 'assistant', stop_reason: 'max_tokens', content: [{ type: 'text', text: 'tok0 tok1 tok2 tok3 ' }] })
    expect(message.usage.output_tokens).toBe(4)
    expect(message.usage.input_tokens).toBeGreaterThan(0)
  })

  test("an upstream dying mid-stream ends it with an error event in Anthropic's envelope; the SDK throws it", async () => {
    fake.set({ failAfter: 2 })
    const res = await post({ model: 'llama3.2', max_tokens: 100, stream: true, messages: hello })
    const events = parseSse(await res.text())
    expect(events.at(-1)!.event).toBe('error')
    expect(JSON.parse(events.at(-1)!.data)).toEqual({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('stopped mid-reply') } })
    expect(events.some((event) => event.event === 'message_stop')).toBe(false)

    fake.set({ failAfter: 2 })
    let text = ''
    const error = await failure(
      (async () => {
        for await (const event of await anthropic.messages.create({ model: 'llama3.2', max_tokens: 100, stream: true, messages: hello }))
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text
      })(),
    )
    expect(text).toBe('tok0 tok1 ')
    expect(error.type).toBe('api_error')
  })

  test('a client that goes away mid-stream aborts the upstream chat; the request is logged cancelled', async () => {
    fake.set({ chunks: 1000, chunkDelayMs: 20 })
    const stream = await anthropic.messages.create({ model: 'llama3.2', max_tokens: 2000, stream: true, messages: hello })
    let received = 0
    for await (const _ of stream) if (++received === 4) break // `break` aborts the SDK's request
    for (let waited = 0; fake.aborted.length === 0 && waited < 2000; waited += 10) await Bun.sleep(10)
    expect(fake.aborted).toHaveLength(1)
    expect(fake.aborted[0]!.chunksSent).toBeLessThan(1000)
    const request = server.received.findLast((each) => each.url.endsWith('/v1/messages'))!
    for (let waited = 0; !factsOf(request).ended && waited < 2000; waited += 10) await Bun.sleep(10)
    expect(factsOf(request)).toMatchObject({ outcome: 'cancelled', streaming: true, ended: true })
  })
})

describe("errors: Anthropic's envelope and status codes, read by the SDK as its error classes", () => {
  test('a bad key → AuthenticationError (401 authentication_error)', async () => {
    const stranger = new Anthropic({ apiKey: 'sk-studio-not-a-key', baseURL: server.url, maxRetries: 0 })
    const error = await failure(stranger.messages.create({ model: 'llama3.2', max_tokens: 10, messages: hello }))
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(error.type).toBe('authentication_error')
    const res = await post({ model: 'llama3.2', max_tokens: 10, messages: hello }, {})
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.stringContaining('x-api-key') } })
  })

  test('an unknown model → NotFoundError (404 not_found_error)', async () => {
    const error = await failure(anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: hello }))
    expect(error).toBeInstanceOf(Anthropic.NotFoundError)
    expect(error.type).toBe('not_found_error')
    expect(fake.chats).toHaveLength(0)
  })

  test('bad input → BadRequestError naming the field, never echoing the value', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ temperature: 'SECRET-VALUE' }, 'temperature'],
      [{ max_tokens: 0 }, 'max_tokens'],
      // A name every JavaScript object has is no effort level.
      [{ output_config: { effort: 'constructor' } }, 'output_config.effort'],
      [{ messages: [] }, 'messages'],
      [{ messages: [{ role: 'SECRET-VALUE', content: 'x' }] }, 'messages.0.role'],
      [{ messages: [{ role: 'user', content: [{ type: 'document', source: { data: 'SECRET-VALUE' } }] }] }, 'messages.0.content'],
      [{ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://SECRET-VALUE/x.png' } }] }] }, 'messages.0.content.0.source.type'],
      [{ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'SECRET-VALUE!' } }] }] }, 'messages.0.content.0.source.data'],
      [{ messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: 'SECRET-VALUE' }] }] }, 'messages.0.content.0.input'],
      [{ tools: [{ name: 'web_search', type: 'web_search_20250305' }] }, 'tools.0.type'],
      [{ tools: [{ name: 'f' }] }, 'tools.0.input_schema'],
      [{ tools: [weatherTool], tool_choice: { type: 'tool', name: 'SECRET-VALUE' } }, 'tool_choice.name'],
      [{ tool_choice: { type: 'any' } }, 'tool_choice'],
      [{ thinking: { type: 'enabled', budget_tokens: 10 } }, 'thinking'],
      [{ metadata: { user_id: 'x'.repeat(257) } }, 'metadata.user_id'],
      [{ output_config: { effort: 'SECRET-VALUE' } }, 'output_config.effort'],
      [{ container: 'container_1' }, 'container'],
      [{ mcp_servers: [{ type: 'url', url: 'https://SECRET-VALUE', name: 'x' }] }, 'mcp_servers'],
    ]
    for (const [fields, param] of cases) {
      const res = await post({ model: 'llama3.2', max_tokens: 100, messages: hello, ...fields })
      expect(res.status).toBe(400)
      const body = (await res.json()) as { type: string; error: { type: string; message: string } }
      expect(body.type).toBe('error')
      expect(body.error.type).toBe('invalid_request_error')
      expect(body.error.message).toContain(`'${param}`)
      expect(body.error.message).not.toContain('SECRET-VALUE')
    }
    expect(fake.chats).toHaveLength(0)
    const error = await failure(anthropic.messages.create({ model: 'llama3.2', max_tokens: -1, messages: hello }))
    expect(error).toBeInstanceOf(Anthropic.BadRequestError)
    expect(error.type).toBe('invalid_request_error')
  })

  test('a body that is not JSON, and an unknown path under /v1/messages, in the same envelope', async () => {
    const res = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${user.apiKey}`, 'content-type': 'application/json' }, body: '{' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).error.type).toBe('invalid_request_error')
    const missing = await fetch(`${server.url}/v1/messages/nope`, { method: 'POST', headers: { authorization: `Bearer ${user.apiKey}` } })
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as any).error.type).toBe('not_found_error')
  })

  test('Ollama failing → InternalServerError (api_error); no host reachable → 503 overloaded_error', async () => {
    fake.set({ chatStatus: 500 })
    const upstream = await failure(anthropic.messages.create({ model: 'llama3.2', max_tokens: 10, messages: hello }))
    expect(upstream).toBeInstanceOf(Anthropic.InternalServerError)
    expect(upstream.status).toBe(502)
    expect(upstream.type).toBe('api_error')
    fake.down()
    try {
      const down = await failure(anthropic.messages.create({ model: 'llama3.2', max_tokens: 10, messages: hello }))
      expect(down.status).toBe(503)
      expect(down.type).toBe('overloaded_error')
    } finally {
      fake.up()
    }
  })

  test('past RATE_LIMIT_CHAT → RateLimitError (429 rate_limit_error), the limit shared with chat completions', async () => {
    const limited = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '2' })
    const limitedServer = listen(limited.app)
    try {
      const someone = await seedUser(limited.rt)
      const client = new Anthropic({ apiKey: someone.apiKey, baseURL: limitedServer.url, maxRetries: 0 })
      const chat = await fetch(`${limitedServer.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${someone.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama3.2', messages: hello }),
      })
      expect(chat.status).toBe(200)
      await client.messages.create({ model: 'llama3.2', max_tokens: 10, messages: hello })
      const error = await failure(client.messages.create({ model: 'llama3.2', max_tokens: 10, messages: hello }))
      expect(error).toBeInstanceOf(Anthropic.RateLimitError)
      expect(error.type).toBe('rate_limit_error')
      expect(error.headers?.get('retry-after')).toBeTruthy()
    } finally {
      limitedServer.stop()
      await limited.close()
    }
  })
})

describe('credentials and headers Anthropic clients send', () => {
  test('the key in x-api-key (no Authorization), with anthropic-version and anthropic-beta, is accepted', async () => {
    const res = await post(
      { model: 'llama3.2', max_tokens: 10, messages: hello },
      { 'x-api-key': user.apiKey, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'interleaved-thinking-2025-05-14' },
    )
    expect(res.status).toBe(200)
    expect(((await res.json()) as any).content[0].text).toBe(REPLY)
    const viaSdk = new Anthropic({ apiKey: null, authToken: null, baseURL: server.url, maxRetries: 0, defaultHeaders: { 'x-api-key': user.apiKey } })
    expect((await viaSdk.messages.create({ model: 'llama3.2', max_tokens: 10, messages: hello })).stop_reason).toBe('end_turn')
    // a JWT works there too
    expect((await post({ model: 'llama3.2', max_tokens: 10, messages: hello }, { 'x-api-key': user.accessToken })).status).toBe(200)
  })

  test('what Claude Code sends by default is accepted: context_management, cache_control, the beta query string', async () => {
    const res = await fetch(`${server.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': user.apiKey, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'llama3.2',
        max_tokens: 10,
        system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello', cache_control: { type: 'ephemeral' } }] }],
        context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
      }),
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as any).content[0].text).toBe(REPLY)
  })

  test('/v1/health shows each host in full to a caller with a good x-api-key, as with Authorization', async () => {
    const full = (await (await fetch(`${server.url}/v1/health`, { headers: { 'x-api-key': user.apiKey } })).json()) as any
    expect(full.upstreams[0].url).toBe(fake.url)
    const anonymous = (await (await fetch(`${server.url}/v1/health`)).json()) as any
    expect(anonymous.upstreams[0].url).toBeUndefined()
  })

  test('a bad x-api-key is a 401 authentication_error', async () => {
    const res = await post({ model: 'llama3.2', max_tokens: 10, messages: hello }, { 'x-api-key': 'sk-studio-unknown' })
    expect(res.status).toBe(401)
    expect(((await res.json()) as any).error.type).toBe('authentication_error')
  })

  test('CORS lets a browser send x-api-key and the anthropic-* headers', async () => {
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key,anthropic-version,anthropic-beta' },
    })
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase()
    for (const header of ['x-api-key', 'anthropic-version', 'anthropic-beta']) expect(allowed).toContain(header)
  })
})

describe('the response cache', () => {
  test('a request asked again is answered from the cache, streamed or not, and shares answers with chat completions', async () => {
    const cached = await testApp({ OLLAMA_BASE_URL: fake.url, CACHE_TTL_SECONDS: '60' })
    const cachedServer = listen(cached.app)
    try {
      const someone = await seedUser(cached.rt)
      const client = new Anthropic({ apiKey: someone.apiKey, baseURL: cachedServer.url, maxRetries: 0 })
      const ask = { model: 'llama3.2', max_tokens: 50, messages: [{ role: 'user' as const, content: 'Cache me' }] }
      const first = await client.messages.create(ask).withResponse()
      expect(first.response.headers.get('x-cache')).toBe('MISS')
      const again = await client.messages.create(ask).withResponse()
      expect(again.response.headers.get('x-cache')).toBe('HIT')
      expect(again.data.content).toEqual(first.data.content)
      expect(again.data.usage).toEqual(first.data.usage)
      expect(again.data.id).not.toBe(first.data.id)
      const streamed = await client.messages.stream(ask).finalMessage()
      expect(streamed.content).toEqual(first.data.content as typeof streamed.content)
      expect(fake.chats).toHaveLength(1)
      // the same request as a chat completion is the same cache entry
      const chat = await fetch(`${cachedServer.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${someone.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama3.2', max_tokens: 50, messages: [{ role: 'user', content: 'Cache me' }] }),
      })
      expect(chat.headers.get('x-cache')).toBe('HIT')
      expect(((await chat.json()) as any).choices[0].message.content).toBe(REPLY)
    } finally {
      cachedServer.stop()
      await cached.close()
    }
  })
})

describe('the request log', () => {
  test('one row per call: path /v1/messages, the model, the tokens, metadata.user_id as the end user, the message id', async () => {
    const message = await anthropic.messages.create({ model: 'llama3.2', max_tokens: 100, metadata: { user_id: 'end-user-7' }, messages: hello })
    expect(JSON.stringify(lastChat())).not.toContain('end-user-7')
    await settle(rt)
    const rows = await logRows(rt, (row) => row.endUser === 'end-user-7')
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      path: '/v1/messages',
      model: 'llama3.2',
      status: 200,
      outcome: 'ok',
      userId: user.userId,
      promptTokens: message.usage.input_tokens,
      completionTokens: message.usage.output_tokens,
      completionId: `chatcmpl-${message.id.slice('msg_'.length)}`,
    })
  })
})
