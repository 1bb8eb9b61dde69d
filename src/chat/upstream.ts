// One Ollama host: what the last check saw (reachable, latency, models), how busy it is, and
// how to open a chat on it. Each chat gets its own client whose fetch carries that chat's
// abort signal, so a client that goes away, or a timeout, aborts exactly one upstream request
// (the shared client's `abort()` would end every stream; and a shared client keeps every
// stream that ends without `done` in its list of ongoing requests forever).
import { Ollama, type ChatRequest, type ChatResponse, type ModelResponse } from 'ollama/browser'
import { HttpError } from '../http/errors'

export type Host = {
  url: string
  /** Answers the checks' short requests (tags, show, version). */
  client: Ollama
  /** undefined until the first check ends. */
  reachable: boolean | undefined
  /** The models of the last successful check, by name (`llama3.2:latest`). */
  models: Map<string, ModelResponse>
  latencyMs: number | null
  version: string | null
  checkedAt: number | null
  error: string | null
  inFlight: number
}

/** A fetch whose every request carries the given signal (the ollama client passes none of its own for most calls). */
const fetchWith = (signal: () => AbortSignal) =>
  ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, signal: signal() })) as typeof fetch

export function newHost(url: string, checkTimeoutMs: number): Host {
  const client = new Ollama({ host: url, fetch: fetchWith(() => AbortSignal.timeout(checkTimeoutMs)) })
  return { url, client, reachable: undefined, models: new Map(), latencyMs: null, version: null, checkedAt: null, error: null, inFlight: 0 }
}

/** Ollama resolves a bare model name to its `:latest` tag. */
export const canonicalModel = (name: string) => (name.includes(':') ? name : `${name}:latest`)

/** Why the gateway gave up on an upstream request. */
export class Aborted extends Error {
  constructor(readonly why: 'client' | 'timeout') {
    super(why === 'client' ? 'The client closed the request' : 'The upstream timed out')
  }
}

/** Reads a failure of the ollama client: the transport's error code, or Ollama's own status. */
export function describeFailure(error: unknown): { status?: number; message: string; transport: boolean } {
  const failure = error as { status_code?: unknown; code?: unknown; message?: unknown }
  const message = typeof failure?.message === 'string' ? failure.message : String(error)
  if (typeof failure?.status_code === 'number') return { status: failure.status_code, message, transport: false }
  const transport = typeof failure?.code === 'string' || error instanceof TypeError
  return { message: typeof failure?.code === 'string' ? failure.code : message, transport }
}

/**
 * One chat on one host, from its first message on. Aborting it (the client went away, or it
 * was silent for longer than the timeout) aborts the upstream request, so Ollama stops generating.
 */
export class UpstreamChat {
  readonly firstMessageAt = performance.now()
  private lastMessageAt = this.firstMessageAt
  private complete: boolean
  private released = false

  constructor(
    readonly host: Host,
    /** The first message, already received. */
    readonly first: ChatResponse,
    private readonly stream: AsyncIterator<ChatResponse>,
    private readonly controller: AbortController,
    private readonly detach: () => void,
    private readonly timeoutMs: number,
  ) {
    this.complete = first.done
    if (this.complete) this.release()
    else this.watch(timeoutMs)
  }

  /** The next message, or undefined after the final one. Rejects with `Aborted` or the client's error. */
  async next(): Promise<ChatResponse | undefined> {
    if (this.complete) return undefined
    try {
      const { done, value } = await this.stream.next()
      if (done) throw new Error('Ollama ended the reply without its final message')
      this.lastMessageAt = performance.now()
      if (value.done) {
        this.complete = true
        this.release()
      }
      return value
    } catch (error) {
      const reason = this.controller.signal.reason
      this.close()
      throw reason instanceof Aborted ? reason : error
    }
  }

  /** Ends the chat; an unfinished upstream request is aborted. */
  close() {
    if (!this.complete) this.controller.abort(new Aborted('client'))
    this.release()
  }

  private release() {
    if (this.released) return
    this.released = true
    this.detach()
    this.host.inFlight--
  }

  /** A lazy idle timer: one timeout per silent stretch, not one reset per message. */
  private watch(delayMs: number) {
    setTimeout(() => {
      if (this.released) return
      const silentMs = performance.now() - this.lastMessageAt
      if (silentMs >= this.timeoutMs) this.controller.abort(new Aborted('timeout'))
      else this.watch(this.timeoutMs - silentMs)
    }, delayMs).unref()
  }
}

/**
 * Sends the chat to one host and waits for its first message, at most `timeoutMs`; after that
 * no silence may last longer either. Rejects with `Aborted` or the ollama client's own error;
 * the caller decides whether another host should be tried.
 */
export async function openChat(host: Host, request: ChatRequest & { stream: true }, signal: AbortSignal, timeoutMs: number): Promise<UpstreamChat> {
  const controller = new AbortController()
  const abort = () => controller.abort(new Aborted('client'))
  signal.addEventListener('abort', abort, { once: true })
  const detach = () => signal.removeEventListener('abort', abort)
  const timer = setTimeout(() => controller.abort(new Aborted('timeout')), timeoutMs)
  const client = new Ollama({ host: host.url, fetch: fetchWith(() => controller.signal) })
  host.inFlight++
  try {
    if (signal.aborted) throw new Aborted('client')
    const stream = (await client.chat(request))[Symbol.asyncIterator]()
    const first = await stream.next()
    if (first.done) throw new Error('Ollama ended the reply before its first message')
    return new UpstreamChat(host, first.value, stream, controller, detach, timeoutMs)
  } catch (error) {
    const reason = controller.signal.reason
    controller.abort(new Aborted('client'))
    detach()
    host.inFlight--
    throw reason instanceof Aborted ? reason : error
  } finally {
    clearTimeout(timer)
  }
}

export function modelNotFound(model: string) {
  return new HttpError(404, `The model '${model}' does not exist on any configured Ollama host`, {
    param: 'model',
    code: 'model_not_found',
  })
}

/** The error a client sees when a host failed before its first message. */
export function failureBeforeFirstByte(host: Host, model: string, error: unknown): HttpError {
  if (error instanceof Aborted && error.why === 'timeout')
    return new HttpError(504, `Ollama at ${host.url} sent nothing within the upstream timeout`, { code: 'upstream_timeout' })
  const { status, message, transport } = describeFailure(error)
  if (transport) return new HttpError(503, `Ollama is unreachable at ${host.url} (${message})`, { code: 'upstream_unreachable' })
  if (status === 404) return modelNotFound(model)
  if (status !== undefined && status >= 400 && status < 500 && status !== 404)
    return new HttpError(400, `Ollama at ${host.url} refused the request: ${message}`, { code: 'upstream_rejected' })
  return new HttpError(502, `Ollama at ${host.url} failed: ${message}`, { code: 'upstream_error' })
}
