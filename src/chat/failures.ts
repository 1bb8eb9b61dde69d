// Which error the client sees for which upstream failure: before the first byte an HTTP
// status (404, 400, 502, 503, 504), after it the error event of the stream.
import { shuttingDown } from '../draining'
import { HttpError } from '../http/errors'
import type { Outcome } from '../telemetry/facts'
import type { Host } from './host'
import { Aborted } from './aborted'

/** How an error names a host: "Ollama at URL", or the OPENAI_UPSTREAMS name ("vllm at URL"). */
type Named = Pick<Host, 'url'> & { kind?: Host['kind']; name?: string }
const named = (host: Named) => `${host.kind === 'openai' ? host.name : 'Ollama'} at ${host.url}`

/** Bun's fetch appends a hint for developers to its errors; clients have no use for it. */
const withoutHint = (message: string) => message.replace(/\s*For more information, pass `verbose: true`.*$/s, '')

/** Reads a failure of the ollama client: the transport's error code, or Ollama's own status. */
export function describeFailure(error: unknown): { status?: number; message: string; transport: boolean } {
  const failure = error as { status_code?: unknown; code?: unknown; message?: unknown }
  const message = withoutHint(typeof failure?.message === 'string' ? failure.message : String(error))
  if (typeof failure?.status_code === 'number') return { status: failure.status_code, message, transport: false }
  const transport = typeof failure?.code === 'string' || error instanceof TypeError
  return { message: typeof failure?.code === 'string' ? failure.code : message, transport }
}

/** The model asked for is on no host. The message names the field, not its value: it is what the client sent. */
export function modelNotFound() {
  return new HttpError(404, 'The model named in the request does not exist on any configured Ollama host', {
    param: 'model',
    code: 'model_not_found',
  })
}

/** The answer to a request the gateway itself stopped: past MAX_REQUEST_SECONDS, or cut by the shutdown deadline. */
export function stoppedByGateway(why: 'deadline' | 'shutdown'): HttpError {
  if (why === 'shutdown') return shuttingDown()
  return new HttpError(504, 'The request ran longer than this server allows (MAX_REQUEST_SECONDS)', { code: 'request_timeout' })
}

/** The error a client sees when a host failed before its first message. */
export function failureBeforeFirstByte(host: Host, error: unknown): HttpError {
  if (error instanceof Aborted && error.why === 'timeout')
    return new HttpError(504, `${named(host)} sent nothing within the upstream timeout`, { code: 'upstream_timeout' })
  const { status, message, transport } = describeFailure(error)
  if (transport) return new HttpError(503, `${named(host)} is unreachable (${message})`, { code: 'upstream_unreachable' })
  if (status === 404) return modelNotFound()
  // Ollama judged the request itself. Other refusals (401, 403, 429… from a proxy in front of
  // it) say nothing about the request: another host may take it.
  if (status === 400 || status === 413 || status === 422)
    return new HttpError(400, `${named(host)} refused the request: ${message}`, { code: 'upstream_rejected' })
  return new HttpError(502, `${named(host)} failed: ${status === undefined ? message : `${status} ${message}`}`, { code: 'upstream_error' })
}

/** Nobody reads this answer; the status tells the request log (nginx's "client closed request"). */
export const clientGone = () => new HttpError(499, 'The client closed the request', { code: 'client_closed_request' })

/** The failure of an upstream that stopped after its first message, as the client's error event. */
export function midStreamFailure(host: Named, error: unknown): HttpError {
  if (error instanceof Aborted && (error.why === 'deadline' || error.why === 'shutdown')) return stoppedByGateway(error.why)
  if (error instanceof Aborted && error.why === 'timeout')
    return new HttpError(504, `${named(host)} went silent mid-reply for longer than the upstream timeout`, { code: 'upstream_timeout' })
  const reason = withoutHint(error instanceof Error ? error.message : String(error))
  return new HttpError(502, `${named(host)} stopped mid-reply: ${reason}`, { code: 'upstream_died' })
}

/** How the request log names a failure: an upstream's, the gateway's own (a request past its time, a shutdown), or the request's fault. */
export function outcomeOf(error: HttpError): Outcome {
  const { code } = error.options
  if (code?.startsWith('upstream_') && code !== 'upstream_rejected') return 'upstream_error'
  return error.status >= 500 ? 'server_error' : 'client_error'
}
