// The gateway's Prometheus metrics (METRICS_TOKEN / METRICS_PORT; none of this exists when both
// are unset: `metricsOf` is undefined and every feature's `metricsOf(rt)?.…` is a no-op).
// The GenAI instruments carry OpenTelemetry's semantic-convention names, mapped to Prometheus as
// OpenTelemetry's Prometheus exporter maps them (dots to underscores, the unit `s` as `_seconds`,
// `{token}` dropped); the gateway's own are `ai_studio_*`, with HTTP in OpenTelemetry's names too.
// Features report what happened (a request logged, a cache lookup, a log batch written); what
// can be read at any time (an upstream's health, a queue's depth) is read when scraped (gauges).
// Every label is bounded: models the upstream hosts list (others are "other"), route patterns
// (never raw paths), configured hosts, fixed sets of codes. Nothing here imports a feature, so
// that every feature may report here.
import type { Runtime } from '../runtime'
import { Registry, type CounterSeries, type GaugeReading, type HistogramSeries } from './registry'

/** OpenTelemetry's advised bucket boundaries for each instrument. */
const BUCKETS = {
  tokens: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
  operation: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
  firstToken: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  perToken: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5],
  http: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  flush: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
}

/**
 * The client APIs that call a model, by the route they are logged under: the gateway's name for
 * the API (`api`) and the GenAI convention's `gen_ai.operation.name` (whose values are chat,
 * text_completion, embeddings, generate_content, …: Anthropic's Messages and OpenAI's Responses
 * are chats; an image is generated content).
 */
const GENAI_ROUTES: Record<string, readonly [api: string, operation: string]> = {
  '/v1/chat/completions': ['chat', 'chat'],
  '/v1/chat/ws': ['chat', 'chat'],
  '/v1/completions': ['completions', 'text_completion'],
  '/v1/embeddings': ['embeddings', 'embeddings'],
  '/v1/images/generations': ['images', 'generate_content'],
  '/v1/messages': ['messages', 'chat'],
  '/v1/responses': ['responses', 'chat'],
}

/** The 429s counted as refusals, by their error code: anything else refused with 429 is `other`. */
const REFUSALS = new Set(['rate_limit_exceeded', 'too_many_concurrent_requests', 'insufficient_quota'])

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/** What the request log knows of a request once it is over (a LogRow fits). */
export type EndedRequest = {
  method: string
  status: number
  latencyMs: number
  outcome: string
  errorType: string | null
  model: string | null
  upstream: string | null
  promptTokens: number
  completionTokens: number
  ttftMs: number | null
  cached?: boolean
}

/** What the metrics need to know of the upstream hosts to bound their labels (the chat pool fits). */
export type Upstreams = {
  hosts: readonly { url: string; kind: string }[]
  /** Whether a reachable host lists the model: others are labelled "other". */
  lists(model: string): boolean
}

/** The value kept for `key` in `map`, made by `make` the first time. */
function at<K, V>(map: Map<K, V>, key: K, make: (key: K) => V): V {
  let value = map.get(key)
  if (value === undefined) map.set(key, (value = make(key)))
  return value
}

const newMap = <K, V>() => new Map<K, V>()

type GenAiSeries = {
  duration: HistogramSeries
  firstToken: HistogramSeries
  perToken: HistogramSeries
  input: HistogramSeries
  output: HistogramSeries
}

export type Metrics = ReturnType<typeof createMetrics>

export function createMetrics() {
  const registry = new Registry()
  const genAi = ['gen_ai_operation_name', 'api', 'gen_ai_request_model', 'gen_ai_provider_name', 'server_address', 'outcome'] as const
  const tokenUsage = registry.histogram(
    'gen_ai_client_token_usage',
    'Number of input and output tokens used (gen_ai.client.token.usage)',
    BUCKETS.tokens,
    [...genAi, 'gen_ai_token_type'],
  )
  const operationDuration = registry.histogram('gen_ai_client_operation_duration_seconds', 'GenAI operation duration (gen_ai.client.operation.duration)', BUCKETS.operation, genAi)
  const firstToken = registry.histogram(
    'gen_ai_server_time_to_first_token_seconds',
    'Time to generate first token for successful responses (gen_ai.server.time_to_first_token)',
    BUCKETS.firstToken,
    genAi,
  )
  const perToken = registry.histogram(
    'gen_ai_server_time_per_output_token_seconds',
    'Time per output token generated after the first token for successful responses (gen_ai.server.time_per_output_token)',
    BUCKETS.perToken,
    genAi,
  )
  const httpDuration = registry.histogram(
    'http_server_request_duration_seconds',
    'Duration of HTTP server requests to /api and /v1, streams until their last byte (http.server.request.duration)',
    BUCKETS.http,
    ['http_request_method', 'http_route', 'http_response_status_code'],
  )
  const refusals = registry.counter('ai_studio_limit_refusals_total', 'Requests refused with 429 by a rate limit, a budget or a concurrency cap', ['reason', 'http_route'])
  const cacheLookups = registry.counter('ai_studio_cache_lookups_total', 'Response cache lookups of chat completions, by result', ['result'])
  const logRows = registry.counter('ai_studio_log_rows_written_total', 'Request log rows written to the database')
  const logFailures = registry.counter('ai_studio_log_write_failures_total', 'Request log batches the database refused (retried later)')
  const logFlush = registry.histogram('ai_studio_log_flush_duration_seconds', 'Time to write one batch of request log rows', BUCKETS.flush)
  const threats = registry.counter('ai_studio_threats_total', 'Threats recorded, by type and severity', ['type', 'severity'])

  // Series made once per label set, found again through nested maps: nothing is built per request.
  const httpSeries = new Map<string, Map<string, Map<number, HistogramSeries>>>()
  const genAiSeries = new Map<string, Map<string, Map<string, Map<string, GenAiSeries>>>>()
  const refusalSeries = new Map<string, Map<string, CounterSeries>>()
  const hit = cacheLookups.series('hit')
  const miss = cacheLookups.series('miss')
  const rowsWritten = logRows.series()
  const writeFailures = logFailures.series()
  const flushes = logFlush.series()
  let upstreams: Upstreams | undefined
  let providers = new Map<string, string>()

  const genAiSeriesOf = (route: string, model: string, upstream: string, outcome: string): GenAiSeries => {
    const [api, operation] = GENAI_ROUTES[route]!
    const byModel = at(genAiSeries, route, newMap<string, Map<string, Map<string, GenAiSeries>>>)
    let labelModel = model
    let byUpstream = byModel.get(model)
    if (!byUpstream) {
      labelModel = upstreams?.lists(model) ? model : 'other'
      byUpstream = at(byModel, labelModel, newMap<string, Map<string, GenAiSeries>>)
    }
    const byOutcome = at(byUpstream, upstream, newMap<string, GenAiSeries>)
    return at(byOutcome, outcome, () => {
      const labels = [operation, api, labelModel, providers.get(upstream) ?? '', upstream, outcome]
      return {
        duration: operationDuration.series(...labels),
        firstToken: firstToken.series(...labels),
        perToken: perToken.series(...labels),
        input: tokenUsage.series(...labels, 'input'),
        output: tokenUsage.series(...labels, 'output'),
      }
    })
  }

  return {
    /** Bounds the model and upstream labels by what the hosts list. */
    watchUpstreams(known: Upstreams) {
      upstreams = known
      providers = new Map(known.hosts.map((host) => [host.url, host.kind]))
    },
    /** A request to /api or /v1 is over (a stream at its last byte): `route` is its pattern, undefined for none. */
    requestEnded(route: string | undefined, request: EndedRequest) {
      const routeLabel = route || 'other'
      const method = METHODS.has(request.method) ? request.method : '_OTHER'
      const seconds = request.latencyMs / 1000
      at(at(at(httpSeries, routeLabel, newMap<string, Map<number, HistogramSeries>>), method, newMap<number, HistogramSeries>), request.status, (status) =>
        httpDuration.series(method, routeLabel, String(status)),
      ).observe(seconds)
      if (request.status === 429) {
        const reason = request.errorType && REFUSALS.has(request.errorType) ? request.errorType : 'other'
        at(at(refusalSeries, reason, newMap<string, CounterSeries>), routeLabel, () => refusals.series(reason, routeLabel)).inc()
      }
      if (request.model === null || !route || !(route in GENAI_ROUTES)) return
      // A cached answer called no upstream; a request that failed before one was chosen has none.
      const upstream = request.cached ? 'cache' : request.upstream === null ? 'none' : providers.has(request.upstream) ? request.upstream : 'other'
      const series = genAiSeriesOf(route, request.model, upstream, request.outcome)
      series.duration.observe(seconds)
      // A cached answer used no model: no tokens, and nothing of the model server's timing.
      if (request.cached) return
      if (request.promptTokens > 0) series.input.observe(request.promptTokens)
      if (request.completionTokens > 0) series.output.observe(request.completionTokens)
      if (request.outcome !== 'ok' || request.ttftMs === null) return
      series.firstToken.observe(request.ttftMs / 1000)
      if (request.completionTokens > 1) series.perToken.observe((request.latencyMs - request.ttftMs) / 1000 / (request.completionTokens - 1))
    },
    cacheLookup(found: boolean) {
      ;(found ? hit : miss).inc()
    },
    logBatchWritten(rows: number, seconds: number) {
      rowsWritten.inc(rows)
      flushes.observe(seconds)
    },
    logBatchFailed() {
      writeFailures.inc()
    },
    threat(type: string, severity: string) {
      threats.series(type, severity).inc()
    },
    /** A gauge read when scraped (a queue's depth, a host's health). */
    gauge(name: string, help: string, labelNames: readonly string[], read: () => GaugeReading | Promise<GaugeReading>) {
      registry.gauge(name, help, labelNames, read)
    },
    exposition: () => registry.exposition(),
  }
}

const made = new WeakMap<Runtime, Metrics | undefined>()

/** The runtime's metrics, or undefined when they are off (neither METRICS_TOKEN nor METRICS_PORT). */
export function metricsOf(rt: Runtime): Metrics | undefined {
  if (made.has(rt)) return made.get(rt)
  const metrics = rt.config.metrics.enabled ? createMetrics() : undefined
  made.set(rt, metrics)
  return metrics
}
