// A fake Ollama host on a real socket, speaking Ollama's own wire format: /api/chat and
// /api/generate (NDJSON stream or one JSON object), /api/embed, /api/tags, /api/show, /api/version,
// plus the OpenAI-compatible /v1/chat/completions stream that a real Ollama also serves (the
// benchmark's "direct" path).
// Like Ollama, it sends each streamed message in its own network write. Knobs change its
// behaviour between requests; it records every request and every abort.
//
// Run alone (for the benchmark): `bun test/support/fake-ollama.ts --port N`; knobs are then
// set with `POST /_fake/knobs` (a JSON object of knobs).

import { imageGeneration, type ImageKnobs } from './fake-ollama-images'

export type FakeModel = {
  name: string
  family?: string
  parameterSize?: string
  quantization?: string
  contextLength?: number
  capabilities?: string[]
  /** An embedding model's vector length (`<family>.embedding_length` in /api/show). */
  embeddingLength?: number
}

export type FakeToolCall = { name: string; arguments: Record<string, unknown> }

export type Knobs = {
  models: FakeModel[]
  /** Content chunks per reply (ignored when `tokens` is set). */
  chunks: number
  /** The reply's content pieces; default `tok0 `, `tok1 `, … */
  tokens?: string[]
  /** Wait before each chunk, the first included. */
  chunkDelayMs: number
  /** Extra wait before the first chunk, after the response headers are sent. */
  firstChunkDelayMs: number
  /** Never answer /api/chat (no headers, no body) until the client goes away. */
  hang: boolean
  /** After this many content chunks, end the reply badly (see `failWith`). */
  failAfter?: number
  /** `drop`: cut the connection; `error`: send Ollama's `{"error": …}` line and end; `garbage`: send a line that is not JSON and end. */
  failWith: 'drop' | 'error' | 'garbage'
  /** After this many content chunks, go silent (the connection stays open) until the client leaves. */
  stallAfter?: number
  /** Answer /api/chat with this status and Ollama's error body instead of a reply. */
  chatStatus?: number
  /** When the request offers tools, reply with these calls instead of text. */
  toolCalls?: FakeToolCall[]
  /** Reasoning text sent before the content when the request asks to think. */
  thinking?: string
  /** Replace fields of the final message (Ollama's token counts, say) with these values. */
  finalOverrides?: Record<string, unknown>
  /** Wait before answering /api/version, the call the gateway's checks time as the host's latency. */
  versionDelayMs?: number
  /** Without a chunk delay, send a reply's messages back to back so that they leave in one network write (unlike Ollama, which flushes each). */
  mergeWrites?: boolean
  /** Send each message in two writes 5 ms apart, cut in its middle byte (inside a multi-byte character if it has one). */
  fragment?: boolean
  /** /api/embed works this long per input (the requests' inputs one after another, as a model runner does). */
  embedDelayMs?: number
} & ImageKnobs

/** A request as the fake received it; `traceparent` is the W3C header the gateway passed on, if any. */
export type RecordedRequest = { path: string; body: any; at: number; traceparent?: string }
export type AbortedRequest = { path: string; body: any; at: number; chunksSent: number }

export const defaultModels: FakeModel[] = [
  { name: 'llama3.2:latest', family: 'llama', parameterSize: '3.2B', quantization: 'Q4_K_M', contextLength: 131072, capabilities: ['completion', 'tools'] },
  { name: 'llava:7b', family: 'llama', parameterSize: '7B', quantization: 'Q4_0', contextLength: 4096, capabilities: ['completion', 'vision'] },
  {
    name: 'nomic-embed-text:latest',
    family: 'nomic-bert',
    parameterSize: '137M',
    quantization: 'F16',
    contextLength: 2048,
    capabilities: ['embedding'],
    embeddingLength: 768,
  },
]

const defaults = (): Knobs => ({
  models: defaultModels,
  defaultSteps: 4,
  stepDelayMs: 0,
  chunks: 5,
  chunkDelayMs: 0,
  firstChunkDelayMs: 0,
  hang: false,
  failWith: 'drop',
})

const encoder = new TextEncoder()
const digestOf = (name: string) => new Bun.CryptoHasher('sha256').update(name).digest('hex')

/** Ollama resolves a bare name to its `:latest` tag. */
const canonical = (name: string) => (name.includes(':') ? name : `${name}:latest`)

function tagEntry(model: FakeModel) {
  return {
    name: model.name,
    model: model.name,
    modified_at: '2025-07-01T12:00:00.000Z',
    size: 2_019_393_189,
    digest: digestOf(model.name),
    details: {
      parent_model: '',
      format: 'gguf',
      family: model.family ?? 'llama',
      families: [model.family ?? 'llama'],
      parameter_size: model.parameterSize ?? '1B',
      quantization_level: model.quantization ?? 'Q4_0',
    },
  }
}

function showEntry(model: FakeModel) {
  const arch = model.family ?? 'llama'
  return {
    license: 'fake',
    modelfile: `FROM ${model.name}`,
    parameters: 'stop "<|eot_id|>"',
    template: '{{ .Prompt }}',
    details: tagEntry(model).details,
    model_info: {
      'general.architecture': arch,
      'general.parameter_count': 3_212_749_888,
      [`${arch}.context_length`]: model.contextLength ?? 8192,
      [`${arch}.embedding_length`]: model.embeddingLength ?? 3072,
    },
    capabilities: model.capabilities ?? ['completion'],
    modified_at: '2025-07-01T12:00:00.000Z',
  }
}

const json = (body: unknown, status = 200) => Response.json(body, { status })
const ollamaError = (status: number, message: string) => json({ error: message }, status)

export type FakeOllama = Awaited<ReturnType<typeof startFakeOllama>>

/** The fake's token count of a text (its /api/embed prompt counts): about 4 characters a token. */
export const fakeTokenCount = (text: string) => Math.max(1, Math.ceil(text.length / 4))

/**
 * The embedding the fake answers for `text`: `length` float32 values from a generator seeded by
 * the model and the text, normalised to unit length; with `dimensions` below `length`, the first
 * `dimensions` normalised again (as Ollama does). Tests compare answers with it.
 */
export function fakeEmbedding(model: string, length: number, text: string, dimensions?: number): number[] {
  let seed = Number(Bun.hash(`${model}\0${text}`) & 0xffffffffn)
  // mulberry32
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const unit = (values: number[]) => {
    const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0)) || 1
    return values.map((value) => Math.fround(value / norm))
  }
  const full = unit(Array.from({ length }, () => next() * 2 - 1))
  return dimensions && dimensions < length ? unit(full.slice(0, dimensions)) : full
}

/** A float32 as Go's encoding/json writes one: the fewest digits that read back as the same float32. */
function goFloat32(value: number): string {
  for (let digits = 1; digits < 9; digits++) {
    const text = value.toPrecision(digits)
    if (Math.fround(Number(text)) === value) return String(Number(text))
  }
  return String(value)
}

export async function startFakeOllama(initial: Partial<Knobs> = {}, port = 0) {
  const knobs: Knobs = { ...defaults(), ...initial }
  const requests: RecordedRequest[] = []
  const aborted: AbortedRequest[] = []
  let active = 0

  const find = (name: unknown) =>
    typeof name === 'string' ? knobs.models.find((model) => canonical(model.name) === canonical(name)) : undefined

  /**
   * With `logprobs` asked for: a content piece's log probabilities as Ollama sends them beside
   * its message (one token per piece, its UTF-8 bytes, and `top_logprobs` alternatives when asked).
   */
  function logprobsOf(body: any, token: string, position: number) {
    // Ollama leaves `bytes` out for an empty token (omitempty on a nil slice).
    const tokenLogprob = (text: string, logprob: number) => (text ? { token: text, logprob, bytes: [...encoder.encode(text)] } : { token: text, logprob })
    const logprob = -0.25 * (position + 1)
    const entry: Record<string, unknown> = tokenLogprob(token, logprob)
    const alternatives = typeof body.top_logprobs === 'number' ? body.top_logprobs : 0
    if (alternatives > 0)
      entry.top_logprobs = Array.from({ length: alternatives }, (_, j) => (j === 0 ? tokenLogprob(token, logprob) : tokenLogprob(`alt${j}`, logprob - j)))
    return [entry]
  }

  /** The reply as Ollama chat messages, without the final `done` message. */
  function replyParts(body: any): { content: string; thinking?: string; tool_calls?: unknown[]; logprobs?: unknown[] }[] {
    if (knobs.toolCalls && Array.isArray(body.tools) && body.tools.length > 0)
      return [
        {
          content: '',
          tool_calls: knobs.toolCalls.map((call, index) => ({
            id: `call_${index}_${digestOf(call.name).slice(0, 8)}`,
            function: { index, name: call.name, arguments: call.arguments },
          })),
        },
      ]
    const parts: { content: string; thinking?: string; logprobs?: unknown[] }[] = []
    if (knobs.thinking && body.think) parts.push({ content: '', thinking: knobs.thinking })
    let tokens = knobs.tokens ?? Array.from({ length: knobs.chunks }, (_, i) => `tok${i} `)
    const limit = body.options?.num_predict
    if (typeof limit === 'number' && limit >= 0 && limit < tokens.length) tokens = tokens.slice(0, limit)
    tokens.forEach((content, i) => parts.push(body.logprobs ? { content, logprobs: logprobsOf(body, content, i) } : { content }))
    return parts
  }

  function finalMessage(body: any, evalCount: number, truncated: boolean) {
    const promptChars = JSON.stringify(body.messages ?? body.prompt ?? []).length
    return {
      model: body.model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: truncated ? 'length' : 'stop',
      total_duration: 1_234_567,
      load_duration: 12_345,
      prompt_eval_count: Math.max(1, Math.ceil(promptChars / 4)),
      prompt_eval_duration: 123_456,
      eval_count: evalCount,
      eval_duration: 234_567,
      ...knobs.finalOverrides,
    }
  }

  /** Writes the reply chunk by chunk as `frame(part)` strings, honouring the knobs; `end` closes it. */
  function streamReply(
    request: Request,
    path: string,
    body: any,
    frame: (part: Record<string, unknown>, done: boolean) => string,
    contentType: string,
  ): Response {
    const parts = replyParts(body)
    const truncated = typeof body.options?.num_predict === 'number' && parts.length < (knobs.tokens?.length ?? knobs.chunks)
    const { failAfter, failWith, stallAfter } = knobs
    const clientGone = new Promise<void>((resolve) => request.signal.addEventListener('abort', () => resolve()))
    const { chunkDelayMs, firstChunkDelayMs } = knobs
    let sent = 0
    let finished = false
    active++
    const done = () => {
      if (!finished) active--
      finished = true
    }
    request.signal.addEventListener('abort', () => {
      if (!finished) aborted.push({ path, body, at: performance.now(), chunksSent: sent })
      done()
    })
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const wait = (sent === 0 ? firstChunkDelayMs : 0) + chunkDelayMs
        if (wait > 0) await Bun.sleep(wait)
        // Ollama flushes after every message, so each is its own network write even when the
        // model is fast; without a wait Bun would merge them all into one.
        else if (sent > 0 && !knobs.mergeWrites) await new Promise((resolve) => setImmediate(resolve))
        if (finished) return
        if (stallAfter !== undefined && sent >= stallAfter) return clientGone
        if (failAfter !== undefined && sent >= failAfter) {
          done()
          if (failWith === 'error') {
            controller.enqueue(encoder.encode(frame({ error: 'llama runner process has terminated: signal: killed' }, false)))
            controller.close()
          } else if (failWith === 'garbage') {
            controller.enqueue(encoder.encode('{"model": garbled\n'))
            controller.close()
          } else {
            // Let the chunks already written reach the client first, as they would before a crash.
            await Bun.sleep(10)
            controller.error(undefined) // Bun resets the connection (and, without an Error, logs nothing)
          }
          return
        }
        const part = parts[sent]
        if (part) {
          const bytes = encoder.encode(frame(part, false))
          if (knobs.fragment) {
            const multiByte = bytes.findIndex((byte) => byte >= 0x80)
            const cut = multiByte >= 0 ? multiByte + 1 : bytes.length >> 1
            controller.enqueue(bytes.subarray(0, cut))
            await Bun.sleep(5)
            controller.enqueue(bytes.subarray(cut))
          } else controller.enqueue(bytes)
          sent++
          return
        }
        controller.enqueue(encoder.encode(frame(finalMessage(body, sent, truncated), true)))
        done()
        controller.close()
      },
      cancel: done,
    })
    return new Response(stream, { headers: { 'content-type': contentType } })
  }

  // Ollama sends a message's logprobs beside it, not in it.
  const ndjson = (body: any) => (part: Record<string, unknown>, done: boolean) => {
    if ('error' in part || done) return JSON.stringify(part) + '\n'
    const { logprobs, ...message } = part
    const framed = { model: body.model, created_at: new Date().toISOString(), message: { role: 'assistant', ...message }, done: false }
    return JSON.stringify(logprobs ? { ...framed, logprobs } : framed) + '\n'
  }

  /** Ollama's own OpenAI-compatible framing, used by the benchmark as the direct baseline. */
  const openAiSse = (body: any) => {
    const id = `chatcmpl-${Math.floor(Math.random() * 1e9)}`
    const created = Math.floor(Date.now() / 1000)
    return (part: Record<string, unknown>, done: boolean) => {
      if ('error' in part) return `data: ${JSON.stringify({ error: { message: part.error, type: 'api_error' } })}\n\n`
      const chunk = {
        id,
        object: 'chat.completion.chunk',
        created,
        model: body.model,
        system_fingerprint: 'fp_ollama',
        choices: [
          {
            index: 0,
            delta: done ? {} : { role: 'assistant', content: part.content },
            finish_reason: done ? (part as { done_reason?: string }).done_reason ?? 'stop' : null,
          },
        ],
      }
      return `data: ${JSON.stringify(chunk)}\n\n${done ? 'data: [DONE]\n\n' : ''}`
    }
  }

  /** Ollama's refusal of a model that cannot take the request (an image model asked to chat), as its scheduler words it. */
  const unable = (body: any, what: string) => {
    const capabilities = find(body.model)?.capabilities
    return capabilities && !capabilities.includes('completion') ? ollamaError(400, `${JSON.stringify(body.model)} does not support ${what}`) : undefined
  }

  /** The `chatStatus` and `hang` knobs, for chat and generate alike: the answer they make, if any. */
  function failingOnPurpose(request: Request, path: string, body: any): Response | Promise<Response> | undefined {
    if (knobs.chatStatus) return ollamaError(knobs.chatStatus, 'fake-ollama: failing on purpose (chatStatus knob)')
    if (!knobs.hang) return undefined
    active++
    return new Promise((resolve) => {
      request.signal.addEventListener('abort', () => {
        aborted.push({ path, body, at: performance.now(), chunksSent: 0 })
        active--
        resolve(new Response(null, { status: 499 }))
      })
    })
  }

  async function chat(request: Request, path: string, body: any): Promise<Response> {
    if (!find(body.model)) return ollamaError(404, `model '${body.model}' not found`)
    const refused = unable(body, 'chat')
    if (refused) return refused
    const failing = failingOnPurpose(request, path, body)
    if (failing) return failing
    if (path === '/v1/chat/completions') return streamReply(request, path, body, openAiSse(body), 'text/event-stream')
    if (body.stream !== false) return streamReply(request, path, body, ndjson(body), 'application/x-ndjson')
    // Non-streaming: the whole reply in one message, as Ollama sends it.
    const parts = replyParts(body)
    const final = finalMessage(body, parts.length, false)
    if (knobs.failAfter !== undefined) return ollamaError(500, 'llama runner process has terminated: signal: killed')
    const toolCalls = parts.flatMap((part) => part.tool_calls ?? [])
    const logprobs = parts.flatMap((part) => part.logprobs ?? [])
    return json({
      ...final,
      ...(logprobs.length ? { logprobs } : {}),
      message: {
        role: 'assistant',
        content: parts.map((part) => part.content).join(''),
        ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
      },
    })
  }

  /**
   * Ollama's per-token log probabilities for one piece of a generated reply (`logprobs` asked):
   * the piece as one token, and with `top_logprobs` that many candidates, the sampled one first.
   */
  function generatedLogprobs(body: any, content: string, index: number) {
    const logprob = -0.25 * (index + 1)
    const top = Number(body.top_logprobs) || 0
    const entry: Record<string, unknown> = { token: content, logprob, bytes: [...encoder.encode(content)] }
    if (top > 0)
      entry.top_logprobs = [{ token: content, logprob }, ...Array.from({ length: top - 1 }, (_, j) => ({ token: `alt${j + 1}`, logprob: logprob - j - 1 }))]
    return [entry]
  }

  /** /api/generate: a text completion of `prompt` (and `suffix`), as NDJSON or one JSON object, with the chat's knobs. */
  async function generate(request: Request, path: string, body: any): Promise<Response> {
    if (!find(body.model)) return ollamaError(404, `model '${body.model}' not found`)
    // An image model (Ollama v0.13 to v0.32.5) makes an image instead of text.
    if (find(body.model)!.capabilities?.includes('image'))
      return imageGeneration(request, body, knobs, () => aborted.push({ path, body, at: performance.now(), chunksSent: 0 }))
    const refused = unable(body, 'generate')
    if (refused) return refused
    const failing = failingOnPurpose(request, path, body)
    if (failing) return failing
    // Ollama's final message has no `message`; it carries the context (the prompt and reply as token ids) instead.
    const finalOf = ({ message: _, ...final }: Record<string, unknown>) => ({ ...final, response: '', context: [1, 2, 3] })
    if (body.stream === false) {
      if (knobs.failAfter !== undefined) return ollamaError(500, 'llama runner process has terminated: signal: killed')
      const parts = replyParts(body)
      const truncated = typeof body.options?.num_predict === 'number' && parts.length < (knobs.tokens?.length ?? knobs.chunks)
      return json({
        ...finalOf(finalMessage(body, parts.length, truncated)),
        response: parts.map((part) => part.content).join(''),
        ...(body.logprobs ? { logprobs: parts.flatMap((part, i) => generatedLogprobs(body, part.content, i)) } : {}),
      })
    }
    let index = 0
    const frame = (part: Record<string, unknown>, done: boolean) => {
      if ('error' in part) return JSON.stringify(part) + '\n'
      if (done) return JSON.stringify(finalOf(part)) + '\n'
      const content = String(part.content ?? '')
      const message: Record<string, unknown> = { model: body.model, created_at: new Date().toISOString(), response: content, done: false }
      if (body.logprobs) message.logprobs = generatedLogprobs(body, content, index)
      index++
      return JSON.stringify(message) + '\n'
    }
    return streamReply(request, path, body, frame, 'application/x-ndjson')
  }

  /** Serialised vectors by model, length and text: the benchmark sends the same texts again and again, and Ollama's work is the delay. */
  const serialised = new Map<string, string>()

  /**
   * Ollama's /api/embed (server/routes.go EmbedHandler): `input` a string or an array of strings,
   * each truncated to the model's context unless `truncate` is false (then a longer one is a 400),
   * `dimensions` keeping the first values renormalised. Vectors are derived from the text
   * (`fakeEmbedding`), float32 as Ollama's, written as Go writes float32s (shortest digits).
   */
  async function embed(request: Request, path: string, body: any): Promise<Response> {
    const input: unknown[] = typeof body.input === 'string' ? (body.input ? [body.input] : []) : Array.isArray(body.input) ? body.input : []
    if ((body.input != null && typeof body.input !== 'string' && !Array.isArray(body.input)) || input.some((text) => typeof text !== 'string'))
      return ollamaError(400, 'invalid input type')
    const model = find(body.model)
    if (!model) return ollamaError(404, `model '${body.model}' not found`)
    // Ollama's capability errors read `"<model>" does not support <what>`.
    if (!(model.capabilities ?? ['completion']).includes('embedding')) return ollamaError(400, `"${body.model}" does not support embeddings`)
    if (input.length === 0) return json({ model: body.model, embeddings: [] })
    const context = model.contextLength ?? 8192
    const texts: string[] = []
    let tokens = 0
    for (const text of input as string[]) {
      const count = fakeTokenCount(text)
      if (count > context && body.truncate === false) return ollamaError(400, 'the input length exceeds the context length')
      texts.push(count > context ? text.slice(0, context * 4) : text)
      tokens += Math.min(count, context)
    }
    if (knobs.embedDelayMs) {
      active++
      const finished = await Promise.race([
        Bun.sleep(knobs.embedDelayMs * texts.length).then(() => true),
        new Promise<false>((resolve) => request.signal.addEventListener('abort', () => resolve(false), { once: true })),
      ])
      active--
      if (!finished) {
        aborted.push({ path, body, at: performance.now(), chunksSent: 0 })
        return new Response(null, { status: 499 })
      }
    }
    const dimensions = typeof body.dimensions === 'number' && body.dimensions > 0 ? body.dimensions : undefined
    const length = model.embeddingLength ?? 768
    const vectors = texts.map((text) => {
      const key = `${model.name}\0${dimensions ?? 0}\0${text}`
      let vector = serialised.get(key)
      if (vector === undefined) {
        if (serialised.size >= 10_000) serialised.clear()
        serialised.set(key, (vector = `[${fakeEmbedding(model.name, length, text, dimensions).map(goFloat32).join(',')}]`))
      }
      return vector
    })
    const answer = `{"model":${JSON.stringify(body.model)},"embeddings":[${vectors.join(',')}],"total_duration":${12_345_678 + texts.length * 1000},"load_duration":1234567,"prompt_eval_count":${tokens}}`
    return new Response(answer, { headers: { 'content-type': 'application/json; charset=utf-8' } })
  }

  async function handle(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname
    let body: any = null
    if (request.method === 'POST') {
      try {
        body = await request.json()
      } catch {
        return ollamaError(400, 'invalid JSON body')
      }
    }
    const traceparent = request.headers.get('traceparent') ?? undefined
    requests.push({ path, body, at: performance.now(), ...(traceparent ? { traceparent } : {}) })
    switch (`${request.method} ${path}`) {
      case 'GET /':
        return new Response('Ollama is running')
      case 'GET /api/version':
        if (knobs.versionDelayMs) await Bun.sleep(knobs.versionDelayMs)
        return json({ version: '0.12.6' })
      case 'GET /api/tags':
        return json({ models: knobs.models.map(tagEntry) })
      case 'POST /api/show': {
        const model = find(body?.model ?? body?.name)
        return model ? json(showEntry(model)) : ollamaError(404, `model '${body?.model}' not found`)
      }
      case 'POST /api/chat':
      case 'POST /v1/chat/completions':
        return chat(request, path, body ?? {})
      case 'POST /api/generate':
        return generate(request, path, body ?? {})
      case 'POST /api/embed':
        return embed(request, path, body ?? {})
      case 'POST /_fake/knobs':
        Object.assign(knobs, body)
        return json(knobs)
      default:
        return new Response('404 page not found', { status: 404 })
    }
  }

  let server = Bun.serve({ port, hostname: '127.0.0.1', idleTimeout: 0, fetch: handle })
  const boundPort = server.port!

  return {
    url: `http://127.0.0.1:${boundPort}`,
    port: boundPort,
    knobs,
    requests,
    aborted,
    /** Streams still being written. */
    get active() {
      return active
    },
    /** Chat requests received (either API). */
    get chats() {
      return requests.filter((request) => request.path.endsWith('/chat') || request.path.endsWith('/chat/completions'))
    },
    set(changes: Partial<Knobs>) {
      Object.assign(knobs, changes)
    },
    /** Back to the knobs it was started with; the records are emptied. */
    reset() {
      for (const key of Object.keys(knobs)) delete knobs[key as keyof Knobs]
      Object.assign(knobs, defaults(), initial)
      requests.length = 0
      aborted.length = 0
    },
    /** Stops listening: connections to its port are refused, as with a host that is down. */
    down() {
      server.stop(true)
    },
    /** Listens again on the same port. */
    up() {
      server = Bun.serve({ port: boundPort, hostname: '127.0.0.1', idleTimeout: 0, fetch: handle })
    },
    stop() {
      server.stop(true)
    },
  }
}

if (import.meta.main) {
  const index = process.argv.indexOf('--port')
  const fake = await startFakeOllama({}, index > 0 ? Number(process.argv[index + 1]) : 0)
  console.log(fake.url)
}
