// One chat on one host. Each chat gets its own ollama client whose fetch carries that chat's
// abort signal, so a client that goes away, or a timeout, aborts exactly one upstream request:
// the shared client's `abort()` would end every stream, and a shared client keeps every stream
// that ends without `done` in its list of ongoing requests forever.
import { Ollama, type ChatRequest, type ChatResponse } from 'ollama/browser'
import { fetchWith, type Host } from './host'

/** Why the gateway gave up on an upstream request. */
export class Aborted extends Error {
  constructor(readonly why: 'client' | 'timeout') {
    super(why === 'client' ? 'The client closed the request' : 'The upstream timed out')
  }
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
