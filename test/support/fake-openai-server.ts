// A fake server that speaks OpenAI's API (what vLLM, llama.cpp's server, LocalAI or an image
// server answer), on a real socket: GET /models, POST /chat/completions (SSE chunks as OpenAI
// streams them: a role chunk, content pieces, tool calls in pieces, the finish chunk, a usage
// chunk, [DONE]; or one JSON object), POST /embeddings and POST /images/generations (b64_json images). Errors
// come in OpenAI's envelope. It records every request (with its Authorization header) and every
// request whose client went away before it ended.
import { onePixelPng } from './png'

export type FakeOpenAiKnobs = {
  models: string[]
  /** The reply's content pieces. */
  tokens: string[]
  /** Reasoning pieces sent (as `reasoning_content`) before the content. */
  reasoning: string[]
  /** When the request offers tools: reply with these calls, their arguments sent in two pieces. */
  toolCalls?: { name: string; arguments: string }[]
  /** Wait before each piece. */
  chunkDelayMs: number
  /** Answer every POST with this status and an OpenAI error body. */
  status?: number
  /** The key the server wants as `Authorization: Bearer …`; anything else is a 401. */
  apiKey?: string
  /** Leave out `data: [DONE]` (some servers end with the finish chunk). */
  omitDone?: boolean
  /** Cut the connection after this many content pieces. */
  dropAfter?: number
  /** Send a tool call's later pieces without their `index` (some servers do). */
  piecesWithoutIndex?: boolean
  /** End with the usage chunk's `data:` line and no blank line after it (and no [DONE]). */
  noTrailingBlankLine?: boolean
}

export type FakeOpenAiRequest = { path: string; body: any; authorization: string | null }

const encoder = new TextEncoder()

export async function startFakeOpenAiServer(initial: Partial<FakeOpenAiKnobs> = {}) {
  const defaults = (): FakeOpenAiKnobs => ({ models: ['qwen-vllm'], tokens: ['Hello', ' from', ' vLLM'], reasoning: [], chunkDelayMs: 0 })
  const knobs: FakeOpenAiKnobs = { ...defaults(), ...initial }
  const requests: FakeOpenAiRequest[] = []
  const aborted: FakeOpenAiRequest[] = []

  const error = (status: number, message: string, code: string | null = null) =>
    Response.json({ error: { message, type: status === 401 ? 'authentication_error' : 'invalid_request_error', param: null, code } }, { status })

  function chat(request: Request, recorded: FakeOpenAiRequest): Response {
    const body = recorded.body
    if (!knobs.models.includes(body.model)) return error(404, `The model \`${body.model}\` does not exist.`, 'model_not_found')
    const id = `chatcmpl-fake${requests.length}`
    const created = Math.floor(Date.now() / 1000)
    const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`
    const calls = knobs.toolCalls && Array.isArray(body.tools) && body.tools.length ? knobs.toolCalls : undefined
    const pieces: string[] = [chunk({ role: 'assistant', content: '' })]
    for (const text of knobs.reasoning) pieces.push(chunk({ reasoning_content: text }))
    if (calls)
      calls.forEach((call, index) => {
        const half = Math.floor(call.arguments.length / 2)
        pieces.push(chunk({ tool_calls: [{ index, id: `call_fake_${index}`, type: 'function', function: { name: call.name, arguments: call.arguments.slice(0, half) } }] }))
        pieces.push(chunk({ tool_calls: [{ ...(knobs.piecesWithoutIndex ? {} : { index }), function: { arguments: call.arguments.slice(half) } }] }))
      })
    else for (const text of knobs.tokens) pieces.push(chunk({ content: text }))
    const limit = body.max_tokens ?? body.max_completion_tokens
    const produced = calls ? 5 : knobs.tokens.length
    const truncated = typeof limit === 'number' && limit < produced
    const usage = { prompt_tokens: JSON.stringify(body.messages).length >> 2, completion_tokens: truncated ? limit : produced, total_tokens: 0 }
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    pieces.push(chunk({}, calls ? 'tool_calls' : truncated ? 'length' : 'stop'))

    if (body.stream !== true) {
      return Response.json({
        id, object: 'chat.completion', created, model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: knobs.tokens.join('') }, logprobs: null, finish_reason: 'stop' }],
        usage,
      })
    }
    if (body.stream_options?.include_usage) pieces.push(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage })}\n\n`)
    if (knobs.noTrailingBlankLine) pieces.push(pieces.pop()!.trimEnd())
    else if (!knobs.omitDone) pieces.push('data: [DONE]\n\n')
    let sent = 0
    let finished = false
    request.signal.addEventListener('abort', () => {
      if (!finished) aborted.push(recorded)
    })
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (knobs.chunkDelayMs) await Bun.sleep(knobs.chunkDelayMs)
          if (knobs.dropAfter !== undefined && sent > knobs.dropAfter) {
            finished = true
            return controller.error(undefined)
          }
          const piece = pieces[sent++]
          if (piece === undefined) {
            finished = true
            return controller.close()
          }
          controller.enqueue(encoder.encode(piece))
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    )
  }

  function images(recorded: FakeOpenAiRequest): Response {
    const body = recorded.body
    if (!knobs.models.includes(body.model)) return error(404, `The model \`${body.model}\` does not exist.`, 'model_not_found')
    const n = body.n ?? 1
    // A 1×1 PNG per image, its one pixel's red channel the image's index (so tests tell them apart).
    const data = Array.from({ length: n }, (_, index) => ({ b64_json: onePixelPng(index), revised_prompt: body.prompt }))
    return Response.json({ created: Math.floor(Date.now() / 1000), data })
  }

  /** One 3-value vector per input: its length, its first character's code, its index (tests tell them apart). */
  function embeddings(recorded: FakeOpenAiRequest): Response {
    const body = recorded.body
    if (!knobs.models.includes(body.model)) return error(404, `The model \`${body.model}\` does not exist.`, 'model_not_found')
    const input: string[] = typeof body.input === 'string' ? [body.input] : body.input
    // Listed out of order, as the index says which input each is for.
    const data = input.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, text.charCodeAt(0), index] })).reverse()
    return Response.json({ object: 'list', data, model: body.model, usage: { prompt_tokens: input.length * 3, total_tokens: input.length * 3 } })
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const path = url.pathname.replace(/^\/v1/, '')
    let body: any = null
    if (request.method === 'POST') {
      try {
        body = await request.json()
      } catch {
        return error(400, 'We could not parse the JSON body of your request.')
      }
    }
    const recorded = { path, body, authorization: request.headers.get('authorization') }
    requests.push(recorded)
    if (knobs.apiKey && recorded.authorization !== `Bearer ${knobs.apiKey}`) return error(401, 'Incorrect API key provided.', 'invalid_api_key')
    if (request.method === 'GET' && path === '/models')
      return Response.json({ object: 'list', data: knobs.models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'fake' })) })
    if (request.method !== 'POST') return error(404, 'Not found')
    if (knobs.status) return error(knobs.status, 'fake-openai: failing on purpose (status knob)')
    if (path === '/chat/completions') return chat(request, recorded)
    if (path === '/images/generations') return images(recorded)
    if (path === '/embeddings') return embeddings(recorded)
    return error(404, `Unknown path ${path}`)
  }

  let server = Bun.serve({ port: 0, hostname: '127.0.0.1', idleTimeout: 0, fetch: handle })
  const port = server.port!
  return {
    /** The base URL as OPENAI_UPSTREAMS takes it (…/v1). */
    url: `http://127.0.0.1:${port}/v1`,
    knobs,
    requests,
    aborted,
    set: (changes: Partial<FakeOpenAiKnobs>) => Object.assign(knobs, changes),
    reset() {
      for (const key of Object.keys(knobs)) delete knobs[key as keyof FakeOpenAiKnobs]
      Object.assign(knobs, defaults(), initial)
      requests.length = 0
      aborted.length = 0
    },
    down: () => server.stop(true),
    up: () => (server = Bun.serve({ port, hostname: '127.0.0.1', idleTimeout: 0, fetch: handle })),
    stop: () => server.stop(true),
  }
}
