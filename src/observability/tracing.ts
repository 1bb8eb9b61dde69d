// OpenTelemetry traces, exported over OTLP/HTTP when an endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; see src/config.ts). Off, nothing is loaded: the
// OpenTelemetry packages are imported only by `startTracing`, and `tracingOf(rt)` is undefined.
//
// A span per /api and /v1 request (continuing an incoming W3C `traceparent`), named and
// attributed as OpenTelemetry's HTTP and GenAI conventions say, with child spans for the
// authentication, the upstream call (whose `traceparent` is sent on to Ollama) and the request
// log's write. Code deep in a request finds its trace by the request, or by the request's abort
// signal (all the upstream pool is handed): a lookup in a WeakMap, where an AsyncLocalStorage
// would make every promise of the process carry a context. Prompts and replies are recorded
// only with OTEL_CAPTURE_CONTENT=true.
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api'
import pkg from '../../package.json'
import type { Runtime } from '../runtime'

/**
 * A request's span, the child spans that end with it (an upstream call that streams on), and the
 * upstream call in progress (whose span Ollama is told as its parent).
 */
type RequestTrace = { tracing: Tracing; span: Span; context: Context; endWithRequest: Span[]; upstream?: Span; recording: boolean }

/** Each traced request's trace, by the request and by its abort signal. */
const traces = new WeakMap<Request | AbortSignal, RequestTrace>()

/** What the request log knows of a request once it is over (a LogRow fits). */
export type TracedRequest = {
  method: string
  status: number
  outcome: string
  errorType: string | null
  model: string | null
  upstream: string | null
  promptTokens: number
  completionTokens: number
  finishReason: string | null
  cached?: boolean
}

/** What the GenAI conventions call each client API's operation, by the route it is logged under. */
const OPERATIONS: Record<string, string> = {
  '/v1/chat/completions': 'chat',
  '/v1/chat/ws': 'chat',
  '/v1/completions': 'text_completion',
  '/v1/embeddings': 'embeddings',
  '/v1/images/generations': 'generate_content',
  '/v1/messages': 'chat',
  '/v1/responses': 'chat',
}

export type Tracing = {
  /** Prompts and replies are recorded (OTEL_CAPTURE_CONTENT=true). */
  readonly captureContent: boolean
  /** Starts the request's span, continuing its `traceparent`. */
  requestStarted(request: Request): void
  /** Names, attributes and ends the request's span (and the children that end with it); returns it for the log write's span. */
  requestEnded(request: Request, route: string | undefined, ended: TracedRequest, content?: { input?: unknown; output?: unknown }): Span | undefined
  /** A child span of `parent` (ended by the caller), for work that outlives the request (the log write). */
  childOf(parent: Span, name: string, attributes?: Attributes): Span
  /** A child span in `context` (see `inChildSpan`). */
  startChild(name: string, kind: 'internal' | 'client', attributes: Attributes | undefined, context: Context): Span
  /** Marks a span failed. */
  failed(span: Span, errorType: string): void
  /** Sends every span still buffered, then stops; a collector that cannot be reached is said in one line, not thrown. */
  close(): Promise<void>
}

const tracings = new WeakMap<Runtime, Tracing>()

/** The runtime's tracing, once `startTracing` has loaded it; undefined when traces are off. */
export const tracingOf = (rt: Runtime): Tracing | undefined => tracings.get(rt)

/**
 * Loads the OpenTelemetry SDK and its OTLP/HTTP exporter when the runtime's configuration asks
 * for traces (else does nothing). `serve` awaits it before it listens.
 */
export async function startTracing(rt: Runtime): Promise<void> {
  const settings = rt.config.tracing
  if (!settings || tracings.has(rt)) return
  const [api, { TracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, AlwaysOnSampler, AlwaysOffSampler }, { OTLPTraceExporter }, { resourceFromAttributes }, { W3CTraceContextPropagator }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ])
  // The settings the configuration checked; the exporter reads the rest of its standard ones (TLS
  // certificates) from the environment itself.
  const { url, headers, timeoutMs, gzip } = settings
  const exporter = new OTLPTraceExporter({ url, headers, timeoutMillis: timeoutMs, compression: (gzip ? 'gzip' : 'none') as never })
  const { name, ratio } = settings.sampler
  const root = name.endsWith('always_on') ? new AlwaysOnSampler() : name.endsWith('always_off') ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(ratio)
  const provider = new TracerProvider({
    sampler: name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root,
    resource: resourceFromAttributes({ 'service.name': settings.serviceName, 'service.version': pkg.version }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: settings.scheduleDelayMs })],
  })
  const tracer: Tracer = provider.getTracer('ai-studio', pkg.version)
  const propagator = new W3CTraceContextPropagator()
  const headerGetter = { keys: (headers: Headers) => [...headers.keys()], get: (headers: Headers, key: string) => headers.get(key) ?? undefined }
  const { SERVER, INTERNAL, CLIENT } = api.SpanKind

  const tracing: Tracing = {
    captureContent: settings.captureContent,
    requestStarted(request) {
      const parent = propagator.extract(api.ROOT_CONTEXT, request.headers, headerGetter)
      const span = tracer.startSpan(request.method, { kind: SERVER, attributes: { 'http.request.method': request.method } }, parent)
      // A request the sampler left out still passes its trace on (`traceparent`), but makes no spans.
      const trace: RequestTrace = { tracing, span, context: api.trace.setSpan(parent, span), endWithRequest: [], recording: span.isRecording() }
      traces.set(request, trace)
      traces.set(request.signal, trace)
    },
    requestEnded(request, route, ended, content) {
      const trace = traces.get(request)
      if (!trace) return undefined
      traces.delete(request)
      traces.delete(request.signal)
      const { span } = trace
      if (!trace.recording) return undefined
      const operation = route ? OPERATIONS[route] : undefined
      // GenAI spans are named `{operation} {model}`; others as HTTP's conventions say, `{method} {route}`.
      span.updateName(operation ? `${operation} ${ended.model ?? ''}`.trim() : route ? `${ended.method} ${route}` : ended.method)
      span.setAttributes({
        ...(route ? { 'http.route': route } : {}),
        'http.response.status_code': ended.status,
        'ai_studio.outcome': ended.outcome,
        ...(ended.errorType ? { 'error.type': ended.errorType } : ended.status >= 500 ? { 'error.type': String(ended.status) } : {}),
      })
      if (operation) {
        span.setAttributes({
          'gen_ai.operation.name': operation,
          ...(ended.model ? { 'gen_ai.request.model': ended.model, 'gen_ai.response.model': ended.model } : {}),
          'gen_ai.usage.input_tokens': ended.promptTokens,
          'gen_ai.usage.output_tokens': ended.completionTokens,
          ...(ended.finishReason ? { 'gen_ai.response.finish_reasons': [ended.finishReason] } : {}),
          ...(ended.upstream ? { 'server.address': ended.upstream } : {}),
          ...(ended.cached ? { 'ai_studio.cached': true } : {}),
        })
        if (settings.captureContent && content?.input !== undefined) span.setAttribute('gen_ai.input.messages', JSON.stringify(content.input))
        if (settings.captureContent && content?.output !== undefined) span.setAttribute('gen_ai.output.messages', JSON.stringify(content.output))
      }
      // A server span fails on a 5xx only: a 4xx is the client's (HTTP's conventions).
      if (ended.status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR })
      for (const child of trace.endWithRequest) child.end()
      span.end()
      return span
    },
    childOf: (parent, name, attributes) => tracer.startSpan(name, { kind: INTERNAL, attributes }, api.trace.setSpan(api.ROOT_CONTEXT, parent)),
    startChild: (name, kind, attributes, context) => tracer.startSpan(name, { kind: kind === 'client' ? CLIENT : INTERNAL, attributes }, context),
    failed(span, errorType) {
      span.setAttribute('error.type', errorType)
      span.setStatus({ code: api.SpanStatusCode.ERROR })
    },
    close: () => provider.shutdown().catch((error) => console.error(`traces: the last spans could not be sent to ${withoutSecrets(url)} (${(error as Error).message})`)),
  }
  tracings.set(rt, tracing)
  rt.onClose(() => tracing.close())
}

/** A URL as it may be logged: its origin and path (no user, password or query, which may hold a key). */
const withoutSecrets = (url: string) => {
  const { origin, pathname } = new URL(url)
  return `${origin}${pathname}`
}

/**
 * Runs `work` in a child span of the request's span, the request found by itself or by its abort
 * signal (when it is traced; else just runs it). The span ends when `work` settles, marked as
 * failed if it threw, or with `untilRequestEnds` (an upstream call whose reply streams on) when
 * the request's span ends. An `upstream` span is the one the upstream is told as its parent.
 */
export function inChildSpan<T>(owner: Request | AbortSignal, name: string, options: ChildOptions, work: () => Promise<T>): Promise<T> {
  const trace = traces.get(owner)
  return trace?.recording ? inChild(trace, name, options, work) : work()
}

type ChildOptions = { kind?: 'internal' | 'client'; attributes?: Attributes; untilRequestEnds?: boolean; upstream?: boolean }

async function inChild<T>(trace: RequestTrace, name: string, { kind = 'internal', attributes, untilRequestEnds = false, upstream = false }: ChildOptions, work: () => Promise<T>): Promise<T> {
  const span = trace.tracing.startChild(name, kind, attributes, trace.context)
  if (upstream) trace.upstream = span
  try {
    const result = await work()
    if (untilRequestEnds) trace.endWithRequest.push(span)
    else span.end()
    return result
  } catch (error) {
    const code = (error as { options?: { code?: unknown } })?.options?.code
    trace.tracing.failed(span, typeof code === 'string' ? code : ((error as Error)?.name ?? 'error'))
    span.end()
    throw error
  } finally {
    if (upstream && trace.upstream === span) trace.upstream = undefined
  }
}

/**
 * `init` with a `traceparent` header added for an upstream request of a traced request (found by
 * its abort signal): the upstream call's span, else the request's. Else `init` itself.
 */
export function tracedInit(signal: AbortSignal, init: RequestInit | undefined): RequestInit | undefined {
  const trace = traces.get(signal)
  if (!trace) return init
  const { traceId, spanId, traceFlags } = (trace.upstream ?? trace.span).spanContext()
  const headers = new Headers(init?.headers)
  headers.set('traceparent', `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`)
  return { ...init, headers }
}

/** Whether the request wants its prompt and reply recorded (traced, with OTEL_CAPTURE_CONTENT=true). */
export const capturingContent = (request: Request) => {
  const trace = traces.get(request)
  return trace !== undefined && trace.recording && trace.tracing.captureContent
}
