// One request on one Ollama host: a streamed reply (chat, generate) or one JSON answer (embed).
// Each request's fetch carries that request's abort signal, so a client that goes away, or a
// timeout, aborts exactly one upstream request. A streamed request is posted as is and its NDJSON
// read a network read at a time (see ndjson.ts): the ollama client's request path (headers
// merged, its iterator set up) cost a request 35–50 µs of the gateway's CPU for nothing used
// (bench/README.md, Overhead). A one-answer request gets its own ollama client (a shared client's
// `abort()` would end every request).
import { tracedInit } from '../observability/tracing'
import { Ollama } from 'ollama/browser'
import { Aborted } from './aborted'
import type { Host } from './host'
import { NdjsonReader } from './ndjson'
import { postTo, type Post } from './openai-upstream'
import type { Watched, Watchdog } from './watchdog'

/** What every message of a streamed reply may carry: its last one says `done`, a failure `error`. */
export type StreamedMessage = { done?: boolean }

/** Where a streamed reply's messages are read from: Ollama's NDJSON, or another server's answer turned into them. */
export type MessageSource = { next(): Promise<unknown[] | undefined> }

/** A streamed request to Ollama: its API's path and its body (with `stream: true`). */
export type OllamaRequest = { path: '/api/chat' | '/api/generate'; body: object }

/**
 * How to send one streamed request: to an Ollama host as `ollama` says, and to a server that
 * speaks OpenAI's API by posting there and reading its answer as the messages Ollama would have
 * sent. Without `openai`, such servers are not asked.
 */
export type Send = { ollama: OllamaRequest; openai?: (post: Post) => Promise<MessageSource>; needs?: Capability; patient?: boolean }

/*
 * `needs`: what the request needs a model to do. `patient`: the host may send nothing until its
 * work is done (a batch of embeddings, an image server's images), so its silence before the
 * answer is not a sign of trouble: only MAX_REQUEST_SECONDS bounds the wait.
 */

/** What a request needs a model to do, as Ollama's /api/show names it (and OPENAI_UPSTREAM_<NAME>_CAPABILITIES). */
export type Capability = 'completion' | 'embedding' | 'image'

/** How to make one request answered with one JSON object (embed), to either kind of host. */
export type Call<T> = {
  ollama: (client: Ollama, via: Via) => Promise<T>
  openai?: (post: Post, via: Via) => Promise<T>
  needs?: Capability
  patient?: boolean
}

/** The host a one-answer request went to, and the fetch that carries its abort signal (for a caller that reads the answer's bytes itself). */
export type Via = { host: Host; fetch: typeof fetch }

/**
 * One streamed reply on one host, from its first messages on. Aborting it (the client went away,
 * or it was silent for longer than the timeout) aborts the upstream request, so Ollama stops generating.
 */
export class UpstreamReply<M extends StreamedMessage> {
  readonly firstMessageAt: number
  /** The messages of the first read: at least one. */
  readonly first: M[]
  private complete = false
  private released = false
  /** An error message of Ollama's that followed messages of the same read: thrown by the next `next()`. */
  private failure: Error | undefined

  constructor(
    readonly host: Host,
    first: unknown[],
    private readonly body: MessageSource,
    private readonly watched: Watched,
    /** Ends the bookkeeping of the request: watchdog, abort listener, the host's count. */
    private readonly settle: () => void,
  ) {
    this.firstMessageAt = watched.lastActivityAt
    this.first = this.accept(first)
  }

  /** The messages of the next read, or undefined after the final one. Rejects with `Aborted` or the upstream's error. */
  async next(): Promise<M[] | undefined> {
    if (this.complete) return undefined
    try {
      if (this.failure) throw this.failure
      const messages = await this.body.next()
      if (!messages) throw new Error('Ollama ended the reply without its final message')
      this.watched.lastActivityAt = performance.now()
      return this.accept(messages)
    } catch (error) {
      const reason = this.watched.controller.signal.reason
      this.close()
      throw reason instanceof Aborted ? reason : error
    }
  }

  /**
   * Waits while the client reads slower than Ollama writes. Ollama is not being read meanwhile,
   * so the wait does not count as its silence (the watchdog would abort a healthy reply).
   */
  async waitForClient(written: PromiseLike<unknown>) {
    this.watched.lastActivityAt = Infinity
    // A client that stops reading must not hold the request past MAX_REQUEST_SECONDS or the
    // shutdown deadline: their abort ends the wait (the stream then ends with its error event).
    const { signal } = this.watched.controller
    let stop: (() => void) | undefined
    const aborted = new Promise<never>((_, reject) => {
      stop = () => reject(signal.reason)
      signal.addEventListener('abort', stop, { once: true })
    })
    try {
      if (signal.aborted) throw signal.reason
      await Promise.race([written, aborted])
    } finally {
      signal.removeEventListener('abort', stop!)
      this.watched.lastActivityAt = performance.now()
    }
  }

  /** Ends the reply; an unfinished upstream request is aborted. */
  close() {
    if (!this.complete) this.watched.controller.abort(new Aborted('client'))
    this.release()
  }

  /**
   * The messages up to the final one. Ollama reports a failure mid-reply as a message with
   * `error`: the messages before it are still handed out, and the failure comes next.
   */
  private accept(messages: unknown[]): M[] {
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i] as (M & { error?: unknown }) | null
      const failure =
        typeof message !== 'object' || message === null
          ? new Error(`Ollama sent a message that is not a JSON object: ${JSON.stringify(message)}`)
          : message.error !== undefined
            ? new Error(String(message.error))
            : undefined
      if (failure) {
        if (i === 0) throw failure
        this.failure = failure
        return messages.slice(0, i) as M[]
      }
      if (message!.done) {
        this.complete = true
        this.release()
        return messages.slice(0, i + 1) as M[]
      }
    }
    return messages as M[]
  }

  private release() {
    if (this.released) return
    this.released = true
    this.settle()
  }
}

/**
 * Watches one request to one host: the watchdog aborts it when the host stays silent too long
 * (counted from `waitingSince`, when the client's request began, whichever host is tried, before
 * the first message, and from the last message after it) and when the request has run for longer
 * than MAX_REQUEST_SECONDS since `startedAt`. The host counts it in flight until `settle`.
 */
function watchRequest(host: Host, signal: AbortSignal, watchdog: Watchdog, waitingSince: number, startedAt: number) {
  const controller = new AbortController()
  const abort = () => controller.abort(new Aborted('client'))
  signal.addEventListener('abort', abort, { once: true })
  const watched = watchdog.watch(controller, waitingSince, startedAt)
  host.inFlight++
  const settle = () => {
    watchdog.forget(watched)
    signal.removeEventListener('abort', abort)
    host.inFlight--
  }
  /** The abort reason when the request was stopped (`Aborted`), else the error itself. */
  const reasonFor = (error: unknown) => {
    const reason = controller.signal.reason
    return reason instanceof Aborted ? reason : error
  }
  return { controller, watched, abort, settle, reasonFor }
}

/** A request Ollama refused: its `{error}` message (or its body's text) and status, as the ollama client reports one. */
class OllamaRefusal extends Error {
  override readonly name = 'OllamaRefusal'
  constructor(
    message: string,
    readonly status_code: number,
  ) {
    super(message)
  }
}

/** Posts a streamed request to an Ollama host; its answer once it is a 200, else the refusal it is. */
async function postToOllama(host: Host, request: OllamaRequest, fetchOnce: typeof fetch): Promise<Response> {
  const response = await fetchOnce(`${host.endpoint.replace(/\/+$/, '')}${request.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify(request.body),
  })
  if (response.ok) {
    if (!response.body) throw new Error('Ollama answered without a body')
    return response
  }
  const text = await response.text().catch(() => '')
  let message = text || `Error ${response.status}: ${response.statusText}`
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error
    if (typeof error === 'string') message = error
  } catch {}
  throw new OllamaRefusal(message, response.status)
}

/**
 * Sends a streamed request to one host and waits for its first messages. Rejects with `Aborted`
 * or the ollama client's own error; the caller decides whether another host should be tried.
 */
export async function openReply<M extends StreamedMessage>(
  host: Host,
  send: Send,
  signal: AbortSignal,
  watchdog: Watchdog,
  waitingSince: number,
  startedAt: number,
): Promise<UpstreamReply<M>> {
  const { controller, watched, abort, settle, reasonFor } = watchRequest(host, signal, watchdog, waitingSince, startedAt)
  const fetchOnce = ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...tracedInit(signal, init), signal: controller.signal })) as typeof fetch
  if (send.patient) watched.lastActivityAt = Infinity
  try {
    if (signal.aborted) throw new Aborted('client')
    let body: MessageSource
    if (host.kind === 'openai') body = await send.openai!(postTo(host, fetchOnce))
    else body = new NdjsonReader((await postToOllama(host, send.ollama, fetchOnce)).body!.getReader())
    const first = await body.next()
    if (!first) throw new Error('Ollama ended the reply before its first message')
    watched.lastActivityAt = performance.now()
    return new UpstreamReply<M>(host, first, body, watched, settle)
  } catch (error) {
    const reason = reasonFor(error)
    abort()
    settle()
    throw reason
  }
}

/**
 * Sends a request whose answer is one JSON object (embed) to one host: its answer, or a rejection
 * with `Aborted` or the ollama client's own error, as `openReply`.
 */
export async function callOnce<T>(
  host: Host,
  call: Call<T>,
  signal: AbortSignal,
  watchdog: Watchdog,
  waitingSince: number,
  startedAt: number,
): Promise<T> {
  const { controller, watched, abort, settle, reasonFor } = watchRequest(host, signal, watchdog, waitingSince, startedAt)
  if (call.patient) watched.lastActivityAt = Infinity
  const fetchOnce = ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...tracedInit(signal, init), signal: controller.signal })) as typeof fetch
  try {
    if (signal.aborted) throw new Aborted('client')
    const via = { host, fetch: fetchOnce }
    return host.kind === 'openai' ? await call.openai!(postTo(host, fetchOnce), via) : await call.ollama(new Ollama({ host: host.endpoint, fetch: fetchOnce }), via)
  } catch (error) {
    const reason = reasonFor(error)
    abort()
    throw reason
  } finally {
    settle()
  }
}
