// An upstream reply relayed to the client as Server-Sent Events, whatever the API: the events of
// the messages of one network read go out in one write; a client that reads slower than the
// upstream writes holds it back; the end, a failure mid-stream, and the client going away are
// each handled once, and the request log learns how it ended. Chat completions (./service.ts)
// and text completions (src/completions/) differ only in the events they write.
import { HttpError } from '../http/errors'
import { markStreaming, streamEnded, type Outcome, type RequestFacts } from '../telemetry/facts'
import { Aborted } from './aborted'
import { clientGone, midStreamFailure, outcomeOf } from './failures'
import type { Pool } from './pool'
import type { UpstreamReply } from './upstream-reply'

/** The headers of every Server-Sent Events answer (nginx is told not to buffer it). */
export const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }

/** One SSE event carrying `data`; OpenAI's streams end with `DONE`. */
export const sseEvent = (data: string) => `data: ${data}\n\n`
export const DONE = 'data: [DONE]\n\n'

/** The client went away: its request's signal says so, or the upstream reply was closed for it. */
export const isCancel = (request: Request, error: unknown) =>
  request.signal.aborted || (error instanceof Aborted && error.why === 'client')

/** Records how a request that did not finish ended, for its log row. */
export function fail(facts: RequestFacts, outcome: Outcome, errorType?: string) {
  facts.outcome = outcome
  if (errorType) facts.errorType = errorType
  facts.totalMs = performance.now() - facts.startedAt
}

/**
 * A request whose upstream did not open (no host had the model, every host failed, the client
 * left first): records how it ended for the log, and gives what to throw (the client's 499 when
 * it left). A model no reachable host lists is whatever the client typed: kept out of the log
 * and the dashboard's models.
 */
export function notOpened(pool: Pick<Pool, 'lists'>, model: string, facts: RequestFacts, error: unknown): unknown {
  if (!pool.lists(model)) facts.model = undefined
  if (error instanceof Aborted) {
    fail(facts, 'cancelled')
    return clientGone()
  }
  if (error instanceof HttpError) fail(facts, outcomeOf(error), error.options.code ?? undefined)
  return error
}

export type Relay<M> = {
  reply: Pick<UpstreamReply<M & { done?: boolean }>, 'first' | 'next' | 'waitForClient' | 'close'> & { host: Parameters<typeof midStreamFailure>[0] }
  request: Request
  facts: RequestFacts
  /** The events one upstream message makes ('' for none). */
  eventsOf(message: M): string
  /** The whole reply has been read: records it, and gives the events that end the stream. */
  finish(): string | Promise<string>
  /** The events that end a stream that failed mid-way (or that the gateway stopped). */
  failure(error: HttpError): string
  /** Called once when the stream is over, however it ended (the log's token counts, a conversation's last turn). */
  ended(): void
}

export function relayStream<M>({ reply, request, facts, eventsOf, finish, failure, ended }: Relay<M>): ReadableStream {
  markStreaming(request)
  let over = false
  const end = () => {
    if (over) return
    over = true
    request.signal.removeEventListener('abort', end)
    reply.close()
    if (!facts.outcome) fail(facts, 'cancelled')
    ended()
    streamEnded(request)
  }
  // Whichever comes first ends it: the reply's end, Bun's cancel, or the client going away
  // (even before Bun started the body, when neither of the others would come).
  request.signal.addEventListener('abort', end, { once: true })
  const source: Bun.DirectUnderlyingSource = {
    type: 'direct',
    async pull(sink) {
      try {
        for (let messages: M[] | undefined = reply.first; messages; messages = await reply.next()) {
          let events = ''
          for (const message of messages) events += eventsOf(message)
          if (!events) continue
          const written = sink.write(events)
          if (typeof written !== 'number') await reply.waitForClient(written)
        }
        let closing: string
        try {
          closing = await finish()
        } catch {
          // The reply was read whole: what failed is the gateway's own (a conversation's store), not the upstream.
          const own = new HttpError(500, 'The reply could not be stored; try again', { code: 'server_error' })
          fail(facts, outcomeOf(own), 'server_error')
          return void sink.write(failure(own))
        }
        sink.write(closing)
      } catch (error) {
        if (isCancel(request, error)) return void fail(facts, 'cancelled')
        const stopped = midStreamFailure(reply.host, error)
        fail(facts, outcomeOf(stopped), stopped.options.code!)
        sink.write(failure(stopped))
      } finally {
        end()
        sink.close()
      }
    },
    cancel: end,
  }
  // The DOM typings (which the tests need) hide Bun's own constructor overload.
  return new ReadableStream(source as unknown as UnderlyingDefaultSource)
}
