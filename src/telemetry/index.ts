// The telemetry plugin: logs every /api and /v1 request (errors and unknown routes too) from
// the facts its handlers added, with nothing for a handler to remember. A streamed response
// is logged when its stream ends (`streamEnded`), since its response is sent before then.
import type { Server } from 'bun'
import { Elysia, StatusMap } from 'elysia'
import { rememberPeer } from '../http/client-address'
import { HttpError } from '../http/errors'
import { requestLines } from '../observability/logs'
import { metricsOf } from '../observability/metrics'
import { tracingOf } from '../observability/tracing'
import type { Runtime } from '../runtime'
import { clientInfo } from './country'
import { factsOf, tokenCount, whenOver, type Outcome, type RequestFacts } from './facts'
import { pricesOf, type CostOf } from './prices'
import { pruneOldLogs } from './retention'
import type { LogRow } from './store'
import { logWriter } from './writer'

/** A request URL's path, without parsing the whole URL (`http://host/path?query` → `/path`). */
const pathOf = (url: string) => {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start < 0) return '/'
  const end = url.indexOf('?', start)
  return end < 0 ? url.slice(start) : url.slice(start, end)
}

const logged = (path: string, method: string) =>
  method !== 'OPTIONS' && (path.startsWith('/api/') || path.startsWith('/v1/') || path === '/api' || path === '/v1')

/**
 * What the log keeps of a path: the route's pattern (ids are in their own columns), or for an
 * unknown route, or a request refused before routing, the path without its trailing slash, cut
 * to 256 characters: anyone can send paths of 16 KB.
 */
const storedPath = (route: string | undefined, path: string) => route || path.replace(/\/+$/, '').slice(0, 256)

const outcomeOf = (status: number): Outcome => (status >= 500 ? 'server_error' : status >= 400 ? 'client_error' : 'ok')

function statusOf(response: unknown, status: number | keyof StatusMap | undefined): number {
  if (response instanceof Response) return response.status
  return typeof status === 'number' ? status : ((status && StatusMap[status]) ?? 200)
}

function errorTypeOf(error: unknown, code: unknown, status: number): string | null {
  if (error instanceof HttpError) return error.options.code ?? null
  // The error handler answers a known path called with another method with 405, not Elysia's 404.
  if (code === 'NOT_FOUND' && status === 405) return 'method_not_allowed'
  return typeof code === 'string' ? code.toLowerCase() : null
}

/**
 * Whether the raw row of a request that turned out anonymous is kept (past the anonymous limit
 * only the rollups count it). The anonymous limit (src/ratelimit/anonymous.ts) answers; the app
 * passes it in, since the limit itself writes the facts this plugin reads.
 */
export type KeepAnonymousRow = (request: Request, facts: RequestFacts, address: string | undefined) => Promise<boolean>

export const telemetry = (rt: Runtime, keepAnonymousRow: KeepAnonymousRow) => {
  const writer = logWriter(rt)
  pruneOldLogs(rt)
  const costOf = pricesOf(rt)
  const { trustProxy } = rt.config
  // Streams still running at shutdown are cut short: logged then, as cancelled, with what is known so far.
  const streaming = new Set<(cutShort?: boolean) => void>()
  rt.onClose(() => streaming.forEach((end) => end(true)))
  // Each is undefined when off (no metrics; neither LOG_FORMAT=json nor DEBUG): nothing is done per request.
  const metrics = metricsOf(rt)
  const printLine = requestLines(rt.config)
  const tracing = tracingOf(rt)
  metrics?.gauge('ai_studio_open_streams', 'Streamed responses (SSE and WebSocket chats) still being written', [], () => [[[], streaming.size]])

  return new Elysia({ name: 'telemetry' })
    .onRequest(({ request, server }) => {
      factsOf(request)
      rememberPeer(request, server)
      if (tracing && logged(pathOf(request.url), request.method)) tracing.requestStarted(request)
    })
    // Destructured in the parameter list: Elysia reads it to decide what to parse per request.
    .onAfterResponse({ as: 'global' }, ({ request, path, route, set, response, server, error, code }: AfterResponse) => {
      if (!logged(path, request.method)) return
      const facts = factsOf(request)
      const status = statusOf(response, set.status)
      const base = {
        requestId: String(set.headers['x-request-id'] ?? ''),
        method: request.method,
        path: storedPath(route, path),
        status,
        ...clientInfo(request, server, trustProxy),
        errorType: status >= 400 ? errorTypeOf(error, code, status) : null,
      }
      // Logs the request once: a stream that ends after shutdown logged it is not logged again.
      const end = (cutShort = false) => {
        streaming.delete(end)
        facts.ended = true
        if (cutShort) facts.outcome ??= 'cancelled'
        const entry = row(base, facts, request, costOf)
        const span = tracing?.requestEnded(request, facts.transport === 'websocket' ? WEBSOCKET_PATH : route, { ...entry, finishReason: facts.finishReason ?? null }, facts.content)
        // The log write's span ends when the row's batch is written (or given up).
        const logWrite = span && tracing!.childOf(span, 'request log write')
        const written = logWrite && ((ok: boolean) => (ok ? logWrite.end() : (tracing!.failed(logWrite, 'log_write_failed'), logWrite.end())))
        if (entry.userId !== null) writer.add(entry, written)
        else
          void keepAnonymousRow(request, facts, entry.ip ?? undefined).then((keep) => {
            entry.rollupOnly = !keep
            writer.add(entry, written)
          })
        metrics?.requestEnded(facts.transport === 'websocket' ? WEBSOCKET_PATH : route, entry)
        printLine?.(entry)
      }
      if (facts.streaming && !facts.ended && status < 400) {
        streaming.add(end)
        whenOver(request, end)
      } else end()
    })
}

/** What the hook reads; Elysia also sets `error` and `code` for a failed request, which its types leave out. */
type AfterResponse = {
  request: Request
  path: string
  /** The matched route's pattern (`/api/keys/:id`); none for an unknown route. */
  route?: string
  set: { status?: number | keyof StatusMap; headers: Record<string, unknown> }
  response: unknown
  server: Server<unknown> | null
  error?: unknown
  code?: unknown
}

/** Where chat over the WebSocket is served, as its requests are logged. */
export const WEBSOCKET_PATH = '/v1/chat/ws'

type Base = Pick<LogRow, 'requestId' | 'method' | 'path' | 'status' | 'ip' | 'country' | 'userAgent' | 'errorType'>

function row(base: Base, facts: RequestFacts, request: Request, costOf: CostOf): LogRow {
  // Any handler's counts: one bad value would fail the batch it is written with, and the rollups' sums.
  const promptTokens = tokenCount(facts.promptTokens)
  const completionTokens = tokenCount(facts.completionTokens)
  // A stream that ended without its handler saying how, while the client had gone, was cancelled.
  const outcome = facts.outcome ?? (facts.streaming && request.signal.aborted ? 'cancelled' : outcomeOf(base.status))
  // A cached answer called no model: it costs nothing, and saved what its tokens would have cost.
  const priced = costOf(facts.model, promptTokens, completionTokens, facts.images ?? 0)
  const cached = facts.cached === true
  return {
    ...base,
    // A chat request that came over the socket: the log says so by the socket's path.
    ...(facts.transport === 'websocket' ? { path: WEBSOCKET_PATH } : {}),
    // When the request arrived, which for a long stream is well before it is logged.
    createdAt: Math.round(Date.now() - (performance.now() - facts.startedAt)),
    latencyMs: facts.totalMs ?? performance.now() - facts.startedAt,
    userId: facts.userId ?? null,
    apiKeyId: facts.apiKeyId ?? null,
    sessionId: facts.sessionId ?? null,
    model: facts.model ?? null,
    upstream: facts.upstream ?? null,
    completionId: facts.completionId ?? null,
    promptTokens,
    completionTokens,
    ttftMs: facts.ttftMs ?? null,
    cost: cached ? 0 : priced,
    cached,
    costSaved: cached ? priced : 0,
    errorType: facts.errorType ?? base.errorType ?? (outcome === 'ok' ? null : outcome),
    outcome,
    endUser: facts.endUser ?? null,
    metadata: facts.metadata ?? null,
    images: facts.images ?? null,
  }
}
