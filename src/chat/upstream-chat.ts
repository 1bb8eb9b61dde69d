// One chat on one host. Each chat gets its own ollama client whose fetch carries that chat's
// abort signal, so a client that goes away, or a timeout, aborts exactly one upstream request:
// the shared client's `abort()` would end every stream, and a shared client keeps every stream
// that ends without `done` in its list of ongoing requests forever.
import { Ollama, type ChatRequest, type ChatResponse } from 'ollama/browser'
import { Aborted } from './aborted'
import { fetchWith, type Host } from './host'
import type { Watched, Watchdog } from './watchdog'

/**
 * One chat on one host, from its first message on. Aborting it (the client went away, or it
 * was silent for longer than the timeout) aborts the upstream request, so Ollama stops generating.
 */
export class UpstreamChat {
  readonly firstMessageAt: number
  private complete: boolean
  private released = false

  constructor(
    readonly host: Host,
    /** The first message, already received. */
    readonly first: ChatResponse,
    private readonly stream: AsyncIterator<ChatResponse>,
    private readonly watched: Watched,
    /** Ends the bookkeeping of the request: watchdog, abort listener, the host's count. */
    private readonly settle: () => void,
  ) {
    this.firstMessageAt = watched.lastActivityAt
    this.complete = first.done
    if (this.complete) this.release()
  }

  /** The next message, or undefined after the final one. Rejects with `Aborted` or the client's error. */
  async next(): Promise<ChatResponse | undefined> {
    if (this.complete) return undefined
    try {
      const { done, value } = await this.stream.next()
      if (done) throw new Error('Ollama ended the reply without its final message')
      this.watched.lastActivityAt = performance.now()
      if (value.done) {
        this.complete = true
        this.release()
      }
      return value
    } catch (error) {
      const reason = this.watched.controller.signal.reason
      this.close()
      throw reason instanceof Aborted ? reason : error
    }
  }

  /** Ends the chat; an unfinished upstream request is aborted. */
  close() {
    if (!this.complete) this.watched.controller.abort(new Aborted('client'))
    this.release()
  }

  private release() {
    if (this.released) return
    this.released = true
    this.settle()
  }
}

/**
 * Sends the chat to one host and waits for its first message. The watchdog aborts it when
 * the host stays silent too long, before the first message or later. Rejects with `Aborted` or
 * the ollama client's own error; the caller decides whether another host should be tried.
 */
export async function openChat(host: Host, request: ChatRequest & { stream: true }, signal: AbortSignal, watchdog: Watchdog): Promise<UpstreamChat> {
  const controller = new AbortController()
  const abort = () => controller.abort(new Aborted('client'))
  signal.addEventListener('abort', abort, { once: true })
  const watched = watchdog.watch(controller)
  host.inFlight++
  const settle = () => {
    watchdog.forget(watched)
    signal.removeEventListener('abort', abort)
    host.inFlight--
  }
  const client = new Ollama({ host: host.endpoint, fetch: fetchWith(() => controller.signal) })
  try {
    if (signal.aborted) throw new Aborted('client')
    const stream = (await client.chat(request))[Symbol.asyncIterator]()
    const first = await stream.next()
    if (first.done) throw new Error('Ollama ended the reply before its first message')
    watched.lastActivityAt = performance.now()
    return new UpstreamChat(host, first.value, stream, watched, settle)
  } catch (error) {
    const reason = controller.signal.reason
    abort()
    settle()
    throw reason instanceof Aborted ? reason : error
  }
}
