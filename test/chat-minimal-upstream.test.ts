// An Ollama emulator that implements only what a chat needs: /api/tags listing bare names and
// /api/chat answering with the fewest fields Ollama's format allows (no /api/version, no
// /api/show, no created_at, no token counts, no done_reason). The gateway must still list its
// models, report it reachable and relay its replies, streamed and not.
import { afterAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { testApp } from './support/app'
import { listen } from './support/listen'
import { seedUser } from './support/users'

const words = ['Hello', ' from', ' a', ' minimal', ' host']
const line = (value: unknown) => `${JSON.stringify(value)}\n`
const upstream = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(request) {
    const { pathname } = new URL(request.url)
    if (pathname === '/api/tags') return Response.json({ models: [{ name: 'tiny' }, { model: 'other:1b' }, { size: 3 }] })
    if (pathname !== '/api/chat') return new Response('404 page not found', { status: 404 })
    const body = await request.json()
    if (body.stream === false) return Response.json({ message: { role: 'assistant', content: words.join('') }, done: true })
    // `other:1b` puts its last word in the final message and ends without a newline.
    const terse = body.model === 'other:1b'
    const streamed = terse ? words.slice(0, -1) : words
    const last = { message: { role: 'assistant', content: terse ? words.at(-1) : '' }, done: true }
    const text = streamed.map((content) => line({ message: { role: 'assistant', content }, done: false })).join('') + line(last)
    return new Response(terse ? text.trimEnd() : text, { headers: { 'content-type': 'application/x-ndjson' } })
  },
})
const { rt, app, call, close } = await testApp({ OLLAMA_BASE_URL: `http://127.0.0.1:${upstream.port}` })
const user = await seedUser(rt)
const server = await listen(app)
const openai = new OpenAI({ apiKey: user.apiKey, baseURL: `${server.url}/v1` })
afterAll(async () => {
  await server.stop()
  await close()
  upstream.stop(true)
})

describe('a minimal Ollama emulator', () => {
  test('is reachable in /v1/health, without a version', async () => {
    const res = await call('/v1/health', { token: user.apiKey })
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body.status).toBe('healthy')
    expect(body.upstreams[0]).toMatchObject({ reachable: true, version: null, models: ['tiny', 'other:1b'] })
    expect(body.upstreams[0].latencyMs).toBeGreaterThanOrEqual(0)
  })

  test('its models are listed, with empty details', async () => {
    const models = await openai.models.list()
    expect(models.data.map((model) => model.id).sort()).toEqual(['other:1b', 'tiny'])
    const tiny = await openai.models.retrieve('tiny')
    expect(tiny).toMatchObject({ id: 'tiny', object: 'model', displayLabel: 'tiny', contextLength: null, capabilities: [] })
  })

  test('a non-streamed reply, with zero usage', async () => {
    const reply = await openai.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }] })
    expect(reply.choices[0]!.message.content).toBe('Hello from a minimal host')
    expect(reply.choices[0]!.finish_reason).toBe('stop')
    expect(reply.usage).toMatchObject({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 })
  })

  test.each(['tiny', 'other:1b'])('a streamed reply (%s)', async (model) => {
    const stream = await openai.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'Hi' }] })
    let text = ''
    let finish: string | null | undefined
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(text).toBe('Hello from a minimal host')
    expect(finish).toBe('stop')
  })
})
