// POST /v1/images/generations (issue 16) through the official `openai` client: images made by a
// server that speaks OpenAI's API (an image server of OPENAI_UPSTREAMS), or by an Ollama image
// model as v0.32.5 served it (one /api/generate per image, its steps streamed), answered as b64_json;
// the capability checks both ways (a text model asked for images, an image model asked to chat);
// bad input named, `url` refused with the reason; its own rate-limit group; the request log.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { testApp } from './support/app'
import { defaultModels, startFakeOllama } from './support/fake-ollama'
import { startFakeOpenAiServer } from './support/fake-openai-server'
import { onePixelPng } from './support/png'
import { listen } from './support/listen'
import { logRows, settle } from './support/log'
import { seedUser } from './support/users'

const ollama = await startFakeOllama({ models: [...defaultModels, { name: 'x/z-image-turbo:latest', capabilities: ['image'] }] })
const sd = await startFakeOpenAiServer({ models: ['sd-turbo'] })
const { rt, app, call, close } = await testApp({
  OLLAMA_BASE_URL: ollama.url,
  OPENAI_UPSTREAMS: `sd=${sd.url}`,
  OPENAI_UPSTREAM_SD_CAPABILITIES: 'image',
  RATE_LIMIT_IMAGES: '5',
  MODEL_PRICES: '{"sd-*": {"image": 0.04}}',
})
const server = listen(app)
const user = await seedUser(rt)
// Each test that uses it gets a fresh user's key (RATE_LIMIT_IMAGES is low here).
let openai = new OpenAI({ apiKey: user.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
afterAll(async () => {
  server.stop()
  await close()
  ollama.stop()
  sd.stop()
})
beforeEach(async () => {
  ollama.reset()
  sd.reset()
  openai = new OpenAI({ apiKey: (await seedUser(rt)).apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
})

/** An image request; by a new user unless told (RATE_LIMIT_IMAGES is low here). */
const generate = async (json: Record<string, unknown>, token?: string) =>
  call('/v1/images/generations', { method: 'POST', json: { model: 'sd-turbo', prompt: 'a red dot', ...json }, token: token ?? (await seedUser(rt)).apiKey })

describe('made by an image server', () => {
  test('images.generate: n images as b64_json, in order; the request went on with b64_json and the size', async () => {
    const answer = await openai.images.generate({ model: 'sd-turbo', prompt: 'a red dot', n: 3, size: '1024x1024' })
    expect(answer.created).toBeGreaterThan(0)
    expect(answer.data!.map((image) => image.b64_json)).toEqual([onePixelPng(0), onePixelPng(1), onePixelPng(2)])
    const sent = sd.requests.find((r) => r.path === '/images/generations')!.body
    expect(sent).toMatchObject({ model: 'sd-turbo', prompt: 'a red dot', n: 3, size: '1024x1024', response_format: 'b64_json' })
  })

  test('streamed: one image_generation.completed event per image, as the openai client reads them', async () => {
    const stream = await openai.images.generate({ model: 'sd-turbo', prompt: 'a red dot', n: 2, stream: true })
    const events: any[] = []
    for await (const event of stream) events.push(event)
    expect(events.map((e) => e.type)).toEqual(['image_generation.completed', 'image_generation.completed'])
    expect(events[1]).toMatchObject({ b64_json: onePixelPng(1), output_format: 'png', size: 'auto' })
  })

  test('one log row: the model, the server, ok, how many images and what they cost (MODEL_PRICES image price)', async () => {
    await openai.images.generate({ model: 'sd-turbo', prompt: 'a red dot', n: 2 })
    await settle(rt)
    const rows = await logRows(rt, (row) => row.path === '/v1/images/generations' && row.status === 200)
    expect(rows.at(-1)).toMatchObject({ model: 'sd-turbo', upstream: sd.url, outcome: 'ok', images: 2 })
    expect(rows.at(-1)!.cost).toBeCloseTo(0.08, 10)
  })
})

describe('made by an Ollama image model (v0.13 to v0.32.5)', () => {
  const generates = () => ollama.requests.filter((r) => r.path === '/api/generate')

  test('n images are n generate calls with width, height and steps; each image its own', async () => {
    const answer = await openai.images.generate({ model: 'x/z-image-turbo', prompt: 'a lighthouse', n: 3, size: '1024x768', steps: 8 } as never)
    const images = answer.data!.map((image) => image.b64_json)
    expect(images).toHaveLength(3)
    expect(new Set(images).size).toBe(3)
    expect(generates().map((r) => r.body)).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ model: 'x/z-image-turbo', prompt: 'a lighthouse', width: 1024, height: 768, steps: 8, stream: true })),
    )
  })

  test('size auto leaves the model its own size', async () => {
    await generate({ model: 'x/z-image-turbo', size: 'auto' }, (await seedUser(rt)).apiKey)
    expect(generates()[0]!.body).not.toHaveProperty('width')
  })

  test('streamed: each step as image_generation.progress, then image_generation.completed, as the openai client reads them', async () => {
    ollama.set({ defaultSteps: 3 })
    const stream = await openai.images.generate({ model: 'x/z-image-turbo', prompt: 'a lighthouse', stream: true })
    const events: any[] = []
    for await (const event of stream) events.push(event)
    expect(events.map((e) => e.type === 'image_generation.progress' ? `${e.completed}/${e.total}` : e.type)).toEqual(['1/3', '2/3', '3/3', 'image_generation.completed'])
    expect(events[3]).toMatchObject({ output_format: 'png', b64_json: expect.any(String) })
  })

  test('a client that leaves mid-way stops the generation upstream', async () => {
    ollama.set({ defaultSteps: 50, stepDelayMs: 50 })
    const leaving = new AbortController()
    const res = await fetch(`${server.url}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(await seedUser(rt)).apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'x/z-image-turbo', prompt: 'slow', stream: true }),
      signal: leaving.signal,
    })
    await res.body!.getReader().read()
    leaving.abort()
    for (let waited = 0; ollama.aborted.length === 0 && waited < 2000; waited += 20) await Bun.sleep(20)
    expect(ollama.aborted.map((a) => a.path)).toEqual(['/api/generate'])
  })

  test('an image model asked to chat: Ollama refuses it, and so does the gateway (400)', async () => {
    const res = await call('/v1/chat/completions', { method: 'POST', json: { model: 'x/z-image-turbo', messages: [{ role: 'user', content: 'Hi' }] }, token: user.apiKey })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).error.message).toContain('does not support chat')
  })
})

describe('capabilities', () => {
  test('a model that does not make images: 400 naming its capabilities, before any upstream call', async () => {
    const res = await generate({ model: 'llama3.2' })
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as any
    expect(error).toMatchObject({ param: 'model', code: 'model_not_supported' })
    expect(error.message).toContain('completion')
    expect(ollama.requests.filter((r) => r.path === '/api/generate')).toHaveLength(0)
  })

  test('an image model asked to chat: 400 naming its capabilities', async () => {
    const res = await call('/v1/chat/completions', { method: 'POST', json: { model: 'sd-turbo', messages: [{ role: 'user', content: 'Hi' }] }, token: user.apiKey })
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as any
    expect(error).toMatchObject({ param: 'model', code: 'model_not_supported' })
    expect(error.message).toContain('image')
    expect(sd.requests.filter((r) => r.path === '/chat/completions')).toHaveLength(0)
  })

  test('an unknown model is a 404', async () => {
    expect((await generate({ model: 'no-such-model' })).status).toBe(404)
  })
})

describe('bad input', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['n 0', { n: 0 }, 'n'],
    ['n 11', { n: 11 }, 'n'],
    ['n 1.5', { n: 1.5 }, 'n'],
    ['size 640', { size: '640' }, 'size'],
    ['size 0x10', { size: '0x10' }, 'size'],
    ['size 5000x5000', { size: '5000x5000' }, 'size'],
    ['prompt empty', { prompt: '' }, 'prompt'],
    ['prompt a number', { prompt: 5 }, 'prompt'],
    ['model missing', { model: undefined }, 'model'],
    ['response_format png', { response_format: 'png' }, 'response_format'],
    ['steps 0', { steps: 0 }, 'steps'],
  ]
  // Each case as its own user: RATE_LIMIT_IMAGES is low here.
  for (const [what, json, param] of cases)
    test(`${what} → 400 naming ${param}, the value not echoed`, async () => {
      const res = await generate(json, (await seedUser(rt)).apiKey)
      expect(res.status).toBe(400)
      const text = await res.text()
      expect(JSON.parse(text).error.param ?? JSON.parse(text).error.message).toContain(param)
      if (typeof json[param] === 'string' && (json[param] as string).length > 3) expect(text).not.toContain(json[param] as string)
    })

  test('response_format url → 400 saying the gateway answers b64_json only', async () => {
    const res = await generate({ response_format: 'url' }, (await seedUser(rt)).apiKey)
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as any
    expect(error).toMatchObject({ param: 'response_format', code: 'unsupported_value' })
    expect(error.message).toContain('b64_json')
  })
})

describe('limits and failures', () => {
  test('images have their own rate-limit group (RATE_LIMIT_IMAGES)', async () => {
    const other = await seedUser(rt)
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await generate({}, other.apiKey)).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429])
    // chat is another group: still allowed
    expect((await call('/v1/chat/completions', { method: 'POST', json: { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }] }, token: other.apiKey })).status).toBe(200)
  })

  test('the server failing: 502 in OpenAI\'s envelope; streamed: an error event', async () => {
    sd.set({ status: 500 })
    const { apiKey } = await seedUser(rt)
    const res = await generate({}, apiKey)
    expect(res.status).toBe(502)
    expect(((await res.json()) as any).error.code).toBe('upstream_error')
    const streamed = await generate({ stream: true }, apiKey)
    expect(streamed.status).toBe(200)
    expect(await streamed.text()).toContain('event: error')
  })
})
