// Servers that speak OpenAI's API beside the Ollama hosts (OPENAI_UPSTREAMS, issue 16): their
// models join /v1/models and /v1/health; chats for them are passed on, with the upstream's key,
// streamed or not, through the official `openai` client, and read back into the same answers,
// request log and limits as Ollama's; failures and disconnects are handled as for Ollama.
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { loadConfig } from '../src/config'
import { testApp } from './support/app'
import { startFakeOllama } from './support/fake-ollama'
import { startFakeOpenAiServer } from './support/fake-openai-server'
import { listen } from './support/listen'
import { logRows, settle } from './support/log'
import { seedUser } from './support/users'

const ollama = await startFakeOllama()
const vllm = await startFakeOpenAiServer({ apiKey: 'sk-upstream-secret', models: ['qwen-vllm', 'shared-model'] })
const tei = await startFakeOpenAiServer({ models: ['bge-m3'] })
const { rt, app, call, close } = await testApp({
  OLLAMA_BASE_URL: ollama.url,
  OPENAI_UPSTREAMS: `vllm=${vllm.url},tei=${tei.url}`,
  OPENAI_UPSTREAM_TEI_CAPABILITIES: 'embedding',
  OPENAI_UPSTREAM_VLLM_API_KEY: 'sk-upstream-secret',
  OPENAI_UPSTREAM_VLLM_CAPABILITIES: 'completion,tools',
  MAX_OUTPUT_TOKENS: '100',
  UPSTREAM_TIMEOUT_MS: '2000',
})
const server = listen(app)
const user = await seedUser(rt)
const openai = new OpenAI({ apiKey: user.apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 })
afterAll(async () => {
  server.stop()
  await close()
  ollama.stop()
  vllm.stop()
  tei.stop()
})
beforeEach(() => {
  ollama.reset()
  vllm.reset()
})

describe('configuration', () => {
  test('name=url pairs, each with its key and capabilities; mistakes name the variable and never show a key', () => {
    const config = loadConfig({ OPENAI_UPSTREAMS: 'sd=http://127.0.0.1:7860/v1/, vLLM=https://gpu.example/v1', OPENAI_UPSTREAM_SD_CAPABILITIES: 'image', OPENAI_UPSTREAM_VLLM_API_KEY: 'k' })
    expect(config.openaiUpstreams).toEqual([
      { name: 'sd', url: 'http://127.0.0.1:7860/v1', apiKey: undefined, capabilities: ['image'] },
      { name: 'vllm', url: 'https://gpu.example/v1', apiKey: 'k', capabilities: ['completion'] },
    ])
    expect(() => loadConfig({ OPENAI_UPSTREAMS: 'http://127.0.0.1:7860/v1' })).toThrow(/^OPENAI_UPSTREAMS: expected comma-separated name=URL pairs/)
    expect(() => loadConfig({ OPENAI_UPSTREAMS: 'a=ftp://x' })).toThrow(/^OPENAI_UPSTREAMS: expected an http\(s\) URL/)
    expect(() => loadConfig({ OPENAI_UPSTREAMS: 'a=http://x,A=http://y' })).toThrow(/each name once/)
    expect(() => loadConfig({ OPENAI_UPSTREAMS: 'a-b=http://x,a_b=http://y' })).toThrow(/each name once/)
    expect(() => loadConfig({ OPENAI_UPSTREAMS: 'a=http://x', OPENAI_UPSTREAM_A_CAPABILITIES: 'telepathy' })).toThrow(/^OPENAI_UPSTREAM_A_CAPABILITIES: expected/)
  })
})

describe('models and health', () => {
  test('the upstream\'s models join /v1/models beside Ollama\'s, with the configured capabilities and the upstream as owner', async () => {
    const { data } = await openai.models.list()
    const ids = data.map((model) => model.id)
    expect(ids).toContain('llama3.2:latest')
    expect(ids).toContain('qwen-vllm')
    const qwen = (await openai.models.retrieve('qwen-vllm')) as unknown as Record<string, unknown>
    expect(qwen).toMatchObject({ id: 'qwen-vllm', object: 'model', owned_by: 'vllm', capabilities: ['completion', 'tools'] })
    // its key goes with each check, as a Bearer token
    await call('/v1/health', { token: user.accessToken })
    expect(vllm.requests.find((r) => r.path === '/models')?.authorization).toBe('Bearer sk-upstream-secret')
  })

  test('/v1/health reports it host by host; its key is nowhere in the answer', async () => {
    const res = await call('/v1/health', { token: user.accessToken })
    const text = await res.text()
    expect(text).not.toContain('sk-upstream-secret')
    const report = JSON.parse(text)
    expect(report.status).toBe('healthy')
    expect(report.upstreams.map((u: any) => u.url)).toEqual([ollama.url, vllm.url, tei.url])
    expect(report.upstreams[1]).toMatchObject({ reachable: true, version: null, models: ['qwen-vllm', 'shared-model'] })
  })
})

describe('chat through the upstream', () => {
  test('non-streamed: the reply, usage and finish reason come back in our answer; the request went on as OpenAI\'s, capped and streamed', async () => {
    const reply = await openai.chat.completions.create({ model: 'qwen-vllm', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.2 })
    expect(reply.choices[0]!.message.content).toBe('Hello from vLLM')
    expect(reply.choices[0]!.finish_reason).toBe('stop')
    expect(reply.usage!.completion_tokens).toBe(3)
    expect(reply.id).toMatch(/^chatcmpl-/)
    const sent = vllm.requests.find((r) => r.path === '/chat/completions')!
    expect(sent.authorization).toBe('Bearer sk-upstream-secret')
    expect(sent.body).toMatchObject({ model: 'qwen-vllm', temperature: 0.2, stream: true, stream_options: { include_usage: true }, max_tokens: 100 })
    expect(ollama.chats).toHaveLength(0)
  })

  test('streamed: content and reasoning as they come, then usage; one log row with the upstream, model and tokens', async () => {
    vllm.set({ reasoning: ['Let me ', 'think'] })
    const stream = await openai.chat.completions.create({ model: 'qwen-vllm', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } })
    let content = ''
    let reasoning = ''
    let usage
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? ''
      reasoning += (chunk.choices[0]?.delta as { reasoning?: string } | undefined)?.reasoning ?? ''
      usage = chunk.usage ?? usage
    }
    expect(content).toBe('Hello from vLLM')
    expect(reasoning).toBe('Let me think')
    expect(usage).toMatchObject({ completion_tokens: 3 })
    await settle(rt)
    const [row] = (await logRows(rt)).filter((r) => r.model === 'qwen-vllm')
    expect(row).toMatchObject({ upstream: vllm.url, status: 200, outcome: 'ok', completionTokens: 3 })
  })

  test('tool calls sent in pieces come back whole, in OpenAI\'s shape', async () => {
    vllm.set({ toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] })
    const reply = await openai.chat.completions.create({
      model: 'qwen-vllm',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    })
    expect(reply.choices[0]!.finish_reason).toBe('tool_calls')
    expect(reply.choices[0]!.message.tool_calls).toEqual([{ id: 'call_fake_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }])
  })

  test('tool-call pieces without their index continue the call they follow', async () => {
    vllm.set({ piecesWithoutIndex: true, toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }, { name: 'get_time', arguments: '{"zone":"CET"}' }] })
    const reply = await openai.chat.completions.create({
      model: 'qwen-vllm',
      messages: [{ role: 'user', content: 'Weather and time?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }, { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } }],
    })
    expect(reply.choices[0]!.message.tool_calls!.map((call: any) => [call.function.name, call.function.arguments])).toEqual([
      ['get_weather', '{"city":"Paris"}'],
      ['get_time', '{"zone":"CET"}'],
    ])
  })

  test('a last event without its blank line (and no [DONE]) is read all the same: the usage and the end', async () => {
    vllm.set({ noTrailingBlankLine: true })
    const stream = await openai.chat.completions.create({ model: 'qwen-vllm', messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } })
    let usage
    for await (const chunk of stream) usage = chunk.usage ?? usage
    expect(usage).toMatchObject({ completion_tokens: 3 })
  })

  test('a server that ends without [DONE] after its finish chunk still gives a whole reply', async () => {
    vllm.set({ omitDone: true })
    const reply = await openai.chat.completions.create({ model: 'qwen-vllm', messages: [{ role: 'user', content: 'Hi' }] })
    expect(reply.choices[0]!.message.content).toBe('Hello from vLLM')
  })
})

describe('embeddings through the upstream', () => {
  test('embeddings.create (float and base64) reach a server whose models embed, in input order, with its usage', async () => {
    const floats = await openai.embeddings.create({ model: 'bge-m3', input: ['ab', 'xyz'], encoding_format: 'float' })
    expect(floats.data.map((entry) => entry.embedding)).toEqual([[2, 97, 0], [3, 120, 1]])
    expect(floats.usage.prompt_tokens).toBe(6)
    const packed = await openai.embeddings.create({ model: 'bge-m3', input: 'ab' })
    expect(packed.data[0]!.embedding).toEqual([2, 97, 0])
    expect(tei.requests.filter((r) => r.path === '/embeddings').map((r) => r.body)).toEqual([
      { model: 'bge-m3', input: ['ab', 'xyz'], encoding_format: 'float' },
      { model: 'bge-m3', input: ['ab'], encoding_format: 'float' },
    ])
  })

  test('a chat model of an upstream that does not embed: 400 naming its capabilities', async () => {
    const res = await call('/v1/embeddings', { method: 'POST', json: { model: 'qwen-vllm', input: 'x' }, token: user.apiKey })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).error).toMatchObject({ code: 'model_not_supported', param: 'model' })
  })
})

describe('failures', () => {
  test('the upstream refusing the request is a 400 with its reason; its own failure a 502; an unknown model 404', async () => {
    vllm.set({ status: 400 })
    const refused = await call('/v1/chat/completions', { method: 'POST', json: { model: 'qwen-vllm', messages: [{ role: 'user', content: 'Hi' }] }, token: user.apiKey })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as any).error).toMatchObject({ code: 'upstream_rejected' })
    vllm.set({ status: 500 })
    const failed = await call('/v1/chat/completions', { method: 'POST', json: { model: 'qwen-vllm', messages: [{ role: 'user', content: 'Hi' }] }, token: user.apiKey })
    expect(failed.status).toBe(502)
    const body = await failed.text()
    expect(body).toContain('upstream_error')
    expect(body).not.toContain('sk-upstream-secret')
    const unknown = await call('/v1/chat/completions', { method: 'POST', json: { model: 'no-such-model', messages: [{ role: 'user', content: 'Hi' }] }, token: user.apiKey })
    expect(unknown.status).toBe(404)
  })

  test('a wrong key at the upstream is not the client\'s fault: 502, and the key is not shown', async () => {
    vllm.set({ apiKey: 'sk-another' })
    const res = await call('/v1/chat/completions', { method: 'POST', json: { model: 'qwen-vllm', messages: [{ role: 'user', content: 'Hi' }] }, token: user.apiKey })
    expect(res.status).toBe(502)
    expect(await res.text()).not.toContain('sk-upstream-secret')
  })

  test('cut mid-stream: the client gets the error event and [DONE]; a client that leaves aborts the upstream request', async () => {
    vllm.set({ dropAfter: 2, chunkDelayMs: 20 })
    const cut = await call('/v1/chat/completions', { method: 'POST', json: { model: 'qwen-vllm', stream: true, messages: [{ role: 'user', content: 'Hi' }] }, token: user.apiKey })
    const text = await cut.text()
    expect(text).toContain('event: error')
    expect(text).toContain('vllm at')
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)

    vllm.set({ dropAfter: undefined, chunkDelayMs: 100, tokens: Array.from({ length: 50 }, (_, i) => `t${i} `) })
    const leaving = new AbortController()
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen-vllm', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
      signal: leaving.signal,
    })
    const reader = res.body!.getReader()
    await reader.read()
    leaving.abort()
    for (let waited = 0; vllm.aborted.length === 0 && waited < 2000; waited += 20) await Bun.sleep(20)
    expect(vllm.aborted).toHaveLength(1)
  })

  test('a model on both kinds of host: the upstream down, Ollama serves it', async () => {
    ollama.set({ models: [...ollama.knobs.models, { name: 'shared-model:latest', capabilities: ['completion'] }] })
    await call('/v1/health', { token: user.accessToken }) // both checked afresh: each lists it
    vllm.down()
    try {
      for (let i = 0; i < 3; i++) {
        const reply = await openai.chat.completions.create({ model: 'shared-model', messages: [{ role: 'user', content: 'Hi' }] })
        expect(reply.choices[0]!.message.content).toBe('tok0 tok1 tok2 tok3 tok4 ')
      }
    } finally {
      vllm.up()
    }
  })
})
