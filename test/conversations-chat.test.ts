// Chat requests kept in conversations (issue 15, deliverable 3): a request joins one by its body
// field `conversationId` ("new" starts one) or the X-Conversation-Id header; the response names
// it; the request's new messages and the reply are stored: complete, streamed (through the
// `openai` SDK on a real socket), cancelled as far as it got, or failed. Another user's
// conversation is a 404 before anything goes upstream.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import type { Message } from '../src/db/stores/conversations'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { refuseInserts } from './support/tables'
import { seedUser } from './support/users'

const fake = await startFakeOllama()
const { rt, app, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url, CONVERSATION_MAX_IMAGE_BYTES: '100' })
const server = listen(app)
const user = await seedUser(rt)
const other = await seedUser(rt)
const openai = new OpenAI({ apiKey: user.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
afterAll(async () => {
  server.stop()
  await close()
  fake.stop()
})
beforeEach(() => fake.reset())

const REPLY = 'tok0 tok1 tok2 tok3 tok4 '
const chat = (json: Record<string, unknown>, init: { token?: string; headers?: Record<string, string> } = {}) =>
  call('/v1/chat/completions', { method: 'POST', json: { model: 'llama3.2', ...json }, token: init.token ?? user.accessToken, headers: init.headers })

/** The conversation's messages once it holds `count` of them (the reply is stored just after the response ends). */
async function messagesOf(id: string, count: number): Promise<Message[]> {
  for (let waited = 0; waited < 2000; waited += 10) {
    const messages = await rt.store.conversations.messages(id, 100)
    if (messages.length >= count) return messages
    await Bun.sleep(10)
  }
  return rt.store.conversations.messages(id, 100)
}

describe('non-streamed', () => {
  test('"new" starts a conversation titled after the first user message; the reply is kept whole', async () => {
    const res = await chat({ conversationId: 'new', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }] })
    expect(res.status).toBe(200)
    const id = res.headers.get('x-conversation-id')!
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const completion = (await res.json()) as any
    expect(completion.conversationId).toBe(id)
    // Ollama never saw the field
    expect(JSON.stringify(fake.requests.at(-1)!.body)).not.toContain('conversationId')

    const messages = await messagesOf(id, 3)
    expect(messages.map((m) => [m.role, m.content, m.state])).toEqual([
      ['system', 'Be brief.', 'complete'],
      ['user', 'Hello there', 'complete'],
      ['assistant', REPLY, 'complete'],
    ])
    expect(messages[2]).toMatchObject({ completionId: completion.id, finishReason: 'stop', completionTokens: 5, promptTokens: completion.usage.prompt_tokens })
    const conversation = await rt.store.conversations.get(user.userId, id)
    expect(conversation).toMatchObject({ title: 'Hello there', model: 'llama3.2' })

    // the next turn sends the whole history: only what is new is stored
    const history = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello there' },
      { role: 'assistant', content: REPLY },
      { role: 'user', content: 'And again?' },
    ]
    expect((await chat({ conversationId: id, messages: history })).status).toBe(200)
    const after = await messagesOf(id, 5)
    expect(after.map((m) => [m.role, m.content])).toEqual([
      ['system', 'Be brief.'], ['user', 'Hello there'], ['assistant', REPLY], ['user', 'And again?'], ['assistant', REPLY],
    ])
  })

  test('the X-Conversation-Id header joins a conversation made through the API', async () => {
    const made = (await (await call('/api/conversations/', { method: 'POST', json: {}, token: user.accessToken })).json()) as any
    const res = await chat({ messages: [{ role: 'user', content: 'Via the header' }] }, { headers: { 'x-conversation-id': made.id } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-conversation-id')).toBe(made.id)
    expect(((await res.json()) as any).conversationId).toBe(made.id)
    expect((await messagesOf(made.id, 2)).map((m) => m.role)).toEqual(['user', 'assistant'])
    expect((await rt.store.conversations.get(user.userId, made.id))!.title).toBe('Via the header')
  })

  test('without a conversation nothing is kept and the response says none', async () => {
    const res = await chat({ messages: [{ role: 'user', content: 'no history' }] })
    expect(res.headers.get('x-conversation-id')).toBeNull()
    expect((await res.json()) as any).not.toHaveProperty('conversationId')
  })

  test('a long first message makes a title of about 60 characters cut at a word', async () => {
    const text = 'Please explain how the migration of a very large database works when replicas are involved'
    const id = (await chat({ conversationId: 'new', messages: [{ role: 'user', content: text }] })).headers.get('x-conversation-id')!
    const { title } = (await rt.store.conversations.get(user.userId, id))!
    expect(title.length).toBeLessThanOrEqual(61)
    expect(title).toEndWith('…')
    expect(text.startsWith(title.slice(0, -1))).toBe(true)
    expect(text[title.length - 1]).toBe(' ')
  })

  test('image parts are kept up to CONVERSATION_MAX_IMAGE_BYTES, a placeholder beyond', async () => {
    const small = `data:image/png;base64,${Buffer.alloc(30).toString('base64')}`
    const large = `data:image/png;base64,${Buffer.alloc(300).toString('base64')}`
    const res = await chat({
      model: 'llava:7b',
      conversationId: 'new',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Two pictures' }, { type: 'image_url', image_url: { url: small } }, { type: 'image_url', image_url: { url: large } }] }],
    })
    expect(res.status).toBe(200)
    const [first] = await messagesOf(res.headers.get('x-conversation-id')!, 2)
    expect(first!.content).toBe('Two pictures')
    expect(first!.parts).toEqual([
      { type: 'text', text: 'Two pictures' },
      { type: 'image_url', image_url: { url: small } },
      { type: 'image_omitted', bytes: 300 },
    ])
  })

  test('an upstream refusal is kept as a failed reply', async () => {
    fake.set({ chatStatus: 500 })
    const res = await chat({ conversationId: 'new', messages: [{ role: 'user', content: 'fails' }] })
    expect(res.status).toBeGreaterThanOrEqual(500)
    expect(res.headers.get('x-conversation-id')).toBeString()
    const messages = await messagesOf(res.headers.get('x-conversation-id')!, 2)
    expect(messages.map((m) => [m.role, m.content, m.state])).toEqual([['user', 'fails', 'complete'], ['assistant', '', 'failed']])
  })
})

describe('streamed, through the openai SDK', () => {
  test('the first chunk names the conversation; the reply is assembled in full', async () => {
    const { data: stream, response } = await openai.chat.completions
      .create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Stream it' }], stream: true, conversationId: 'new' } as any)
      .withResponse()
    const id = response.headers.get('x-conversation-id')!
    const chunks: any[] = []
    for await (const chunk of stream as any) chunks.push(chunk)
    expect(chunks[0].conversationId).toBe(id)
    expect(chunks.slice(1).some((chunk) => 'conversationId' in chunk)).toBe(false)
    const messages = await messagesOf(id, 2)
    expect(messages[1]).toMatchObject({ role: 'assistant', content: REPLY, state: 'complete', finishReason: 'stop', completionId: chunks[0].id })
  })

  test('a client that stops reading leaves the reply kept as far as it got, marked cancelled', async () => {
    fake.set({ chunks: 1000, chunkDelayMs: 20 })
    const { data: stream, response } = await openai.chat.completions
      .create({ model: 'llama3.2', messages: [{ role: 'user', content: 'Long one' }], stream: true, conversationId: 'new' } as any)
      .withResponse()
    const id = response.headers.get('x-conversation-id')!
    let received = 0
    for await (const _ of stream as any) if (++received === 4) break
    const messages = await messagesOf(id, 2)
    expect(messages[1]!.state).toBe('cancelled')
    expect(messages[1]!.content).toStartWith('tok0 tok1 tok2 ')
    expect(messages[1]!.content.length).toBeLessThan(1000 * 5)
    expect(messages[1]!.finishReason).toBeNull()
  })

  test('an upstream failing mid-stream leaves the reply kept as far as it got, marked failed', async () => {
    fake.set({ failAfter: 2, failWith: 'error' })
    const res = await chat({ conversationId: 'new', stream: true, messages: [{ role: 'user', content: 'Breaks' }] })
    const body = await res.text()
    expect(body).toContain('event: error')
    const messages = await messagesOf(res.headers.get('x-conversation-id')!, 2)
    expect(messages[1]).toMatchObject({ role: 'assistant', content: 'tok0 tok1 ', state: 'failed' })
  })
})

describe('the store failing', () => {
  test('a reply that cannot be stored is still delivered whole, and no database text reaches the client', async () => {
    const first = await chat({ messages: [{ role: 'user', content: 'Keep this' }], conversationId: 'new' })
    const id = first.headers.get('x-conversation-id')!
    await first.text()
    await messagesOf(id, 2)
    // The next request ends with what the conversation holds: only its reply would be stored.
    const restore = await refuseInserts(rt, 'conversation_messages', 'disk is full')
    try {
      const res = await chat({ messages: [{ role: 'user', content: 'Keep this' }, { role: 'assistant', content: REPLY }], stream: true }, { headers: { 'x-conversation-id': id } })
      const text = await res.text()
      expect(text).not.toContain('event: error')
      expect(text).not.toContain('disk is full')
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)
    } finally {
      await restore()
    }
    expect(await rt.store.conversations.messages(id, 10)).toHaveLength(2)
  })
})

describe('turn after turn', () => {
  test('a next turn sent the moment a reply ends finds that reply stored: nothing twice', async () => {
    const history: { role: string; content: string }[] = []
    let id = 'new'
    for (let turn = 0; turn < 4; turn++) {
      history.push({ role: 'user', content: `turn ${turn}` })
      const res = await chat({ conversationId: id, stream: turn % 2 === 1, messages: history })
      id = res.headers.get('x-conversation-id')!
      const text = turn % 2 === 1 ? (await res.text(), REPLY) : ((await res.json()) as any).choices[0].message.content
      history.push({ role: 'assistant', content: text })
    }
    const messages = await messagesOf(id, 8)
    await Bun.sleep(50)
    expect((await rt.store.conversations.messages(id, 100)).map((m) => [m.role, m.content])).toEqual(history.map((m) => [m.role, m.content]))
    expect(messages).toHaveLength(8)
  })
})

describe('access', () => {
  test("another user's conversation is a 404, and Ollama is never asked", async () => {
    const id = (await chat({ conversationId: 'new', messages: [{ role: 'user', content: 'mine' }] })).headers.get('x-conversation-id')!
    await messagesOf(id, 2)
    fake.reset()
    for (const init of [{ body: { conversationId: id } }, { headers: { 'x-conversation-id': id } }]) {
      const res = await chat({ ...init.body, messages: [{ role: 'user', content: 'theirs' }] }, { token: other.accessToken, headers: init.headers })
      expect(res.status).toBe(404)
      expect(((await res.json()) as any).error.code).toBe('conversation_not_found')
    }
    expect(fake.requests).toHaveLength(0)
    expect((await rt.store.conversations.messages(id, 100)).map((m) => m.content)).toEqual(['mine', REPLY])
  })

  test.each([['not-an-id'], ['x'.repeat(65)], [5]])('conversationId %p → 400 naming it, Ollama never asked', async (value) => {
    const res = await chat({ conversationId: value, messages: [{ role: 'user', content: 'hi' }] })
    expect(res.status).toBe(400)
    const body = (await res.json()) as any
    expect(JSON.stringify(body)).toContain('conversationId')
    expect(fake.requests).toHaveLength(0)
  })
})
