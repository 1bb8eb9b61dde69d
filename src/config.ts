// Every setting of the server, read from the environment once at start-up.
// A malformed value stops start-up with one line naming the variable and what it expected.
import { readFileSync } from 'node:fs'

export class ConfigError extends Error {
  constructor(variable: string, expected: string, got?: string) {
    super(`${variable}: expected ${expected}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === '' ? undefined : value
}

/** Timers take at most 2^31 - 1 ms; a longer delay fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

function integer(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!/^-?\d+$/.test(raw) || value < min || value > max)
    throw new ConfigError(name, `an integer from ${min} to ${max}`, raw)
  return value
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)?.toLowerCase()
  if (raw === undefined) return fallback
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true
  if (['0', 'false', 'no', 'off'].includes(raw)) return false
  throw new ConfigError(name, 'true or false', raw)
}

/** TRUST_PROXY: false (0), true (1: one proxy in front), or how many proxies stand in front. */
function proxyHops(env: Env): number {
  const raw = read(env, 'TRUST_PROXY')
  if (raw === undefined) return 0
  if (/^\d+$/.test(raw)) return integer(env, 'TRUST_PROXY', 0, 0, 10)
  if (/^(1|true|yes|on)$/i.test(raw)) return 1
  if (/^(0|false|no|off)$/i.test(raw)) return 0
  throw new ConfigError('TRUST_PROXY', 'true, false, or how many proxies stand in front (0 to 10)', raw)
}

function httpUrl(name: string, raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(name, 'an http(s) URL', raw)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, 'an http(s) URL', raw)
  return url.toString().replace(/\/+$/, '')
}

function urlList(env: Env, name: string, fallback: string): string[] {
  const raw = read(env, name) ?? fallback
  const urls = raw.split(',').map((part) => part.trim()).filter(Boolean)
  if (urls.length === 0) throw new ConfigError(name, 'one or more comma-separated http(s) URLs', raw)
  return urls.map((url) => httpUrl(name, url))
}

/** A server that speaks OpenAI's API (vLLM, llama.cpp, LocalAI, an image server) beside the Ollama hosts. */
export type OpenAiUpstream = { name: string; url: string; apiKey?: string; capabilities: string[] }

const upstreamsExpected = 'comma-separated name=URL pairs (name: letters, digits, _ or -), e.g. sd=http://127.0.0.1:7860/v1'

/**
 * OPENAI_UPSTREAMS=`name=url,…`; each one's key in OPENAI_UPSTREAM_<NAME>_API_KEY and what its
 * models do in OPENAI_UPSTREAM_<NAME>_CAPABILITIES (OpenAI's model list does not say; default
 * `completion`, e.g. `image` for an image server, `embedding`, `completion,tools`).
 */
function openAiUpstreams(env: Env): OpenAiUpstream[] {
  const raw = read(env, 'OPENAI_UPSTREAMS')
  if (raw === undefined) return []
  const seen = new Set<string>()
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const match = /^([A-Za-z0-9_-]{1,40})=(.+)$/.exec(part)
      if (!match) throw new ConfigError('OPENAI_UPSTREAMS', upstreamsExpected, part)
      const name = match[1]!.toLowerCase()
      // `a-b` and `a_b` would read the same OPENAI_UPSTREAM_A_B_* variables: one name.
      const prefix = `OPENAI_UPSTREAM_${name.toUpperCase().replaceAll('-', '_')}`
      if (seen.has(prefix)) throw new ConfigError('OPENAI_UPSTREAMS', `${upstreamsExpected}, each name once (- and _ count as the same)`, name)
      seen.add(prefix)
      const capabilities = (read(env, `${prefix}_CAPABILITIES`) ?? 'completion').split(',').map((c) => c.trim().toLowerCase()).filter(Boolean)
      const known = ['completion', 'tools', 'vision', 'thinking', 'embedding', 'image']
      const unknown = capabilities.find((c) => !known.includes(c))
      if (unknown !== undefined || capabilities.length === 0)
        throw new ConfigError(`${prefix}_CAPABILITIES`, `a comma-separated list of ${known.join(', ')}`, unknown)
      return { name, url: httpUrl('OPENAI_UPSTREAMS', match[2]!), apiKey: read(env, `${prefix}_API_KEY`), capabilities }
    })
}

/** A model name or glob (`*`, `?`) and its prices in currency units: per 1M tokens in and out, per image made. */
export type ModelPrice = { pattern: string; input: number; output: number; image: number }

const pricesExpected = 'a JSON file (or inline JSON) mapping model names or globs to {"input": n, "output": n} per 1M tokens and/or {"image": n} per image'

/** MODEL_PRICES: a path to a JSON file, or the JSON itself when it starts with `{`. */
function modelPrices(env: Env): ModelPrice[] {
  const raw = read(env, 'MODEL_PRICES')
  if (raw === undefined) return []
  let text = raw
  if (!raw.startsWith('{')) {
    try {
      text = readFileSync(raw, 'utf8')
    } catch {
      throw new ConfigError('MODEL_PRICES', `${pricesExpected}; cannot read the file`, raw)
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new ConfigError('MODEL_PRICES', `${pricesExpected}; it is not valid JSON`, raw)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigError('MODEL_PRICES', pricesExpected, raw)
  return Object.entries(parsed).map(([pattern, price]) => {
    const { input, output, image } = (price ?? {}) as Record<string, unknown>
    const valid = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0
    const tokens = input !== undefined || output !== undefined
    if (!pattern || (tokens && (!valid(input) || !valid(output))) || (image !== undefined && !valid(image)) || (!tokens && image === undefined))
      throw new ConfigError('MODEL_PRICES', `${pricesExpected}; "${pattern}" has ${JSON.stringify(price)}`)
    return { pattern, input: (input as number) ?? 0, output: (output as number) ?? 0, image: (image as number) ?? 0 }
  })
}

export type DatabaseLocation =
  | { kind: 'sqlite'; path: string }
  /** `url` without `schema`; `schema` (from `?schema=`, as Prisma reads it) becomes the search_path. */
  | { kind: 'postgres'; url: string; schema: string | undefined; poolSize: number }

const databaseExpected = 'sqlite://<path>, sqlite://:memory: or postgres://<user>@<host>:<port>/<database>'

function database(env: Env): DatabaseLocation {
  const raw = read(env, 'DATABASE_URL') ?? 'sqlite://./data/studio.db'
  const sqlite = /^sqlite:\/\/(.+)$/.exec(raw)
  if (sqlite) return { kind: 'sqlite', path: sqlite[1]! }
  // A PostgreSQL URL may hold a password: it is never repeated in an error.
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError('DATABASE_URL', databaseExpected, raw.includes('@') ? undefined : raw)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('DATABASE_URL', `${databaseExpected} (this postgres:// URL could not be read)`)
  }
  const schema = url.searchParams.get('schema') ?? undefined
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema))
    throw new ConfigError('DATABASE_URL', '?schema= to name a schema: letters, digits and _, not starting with a digit')
  url.searchParams.delete('schema')
  return { kind: 'postgres', url: url.toString(), schema, poolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000) }
}

/** One of `choices` (the first is the default). */
function oneOf<T extends string>(env: Env, name: string, choices: readonly [T, ...T[]]): T {
  const raw = read(env, name)?.toLowerCase()
  if (raw === undefined) return choices[0]
  if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(name, `one of ${choices.join(', ')}`, raw)
  return raw as T
}

/** REDIS_URL: redis:// or rediss:// (TLS); a password in it is never repeated in an error. */
function redis(env: Env) {
  const raw = read(env, 'REDIS_URL')
  if (raw === undefined) return undefined
  if (!/^rediss?:\/\/[^/]/.test(raw)) throw new ConfigError('REDIS_URL', 'redis://[user:password@]host:port[/db] or rediss://…', raw.includes('@') ? undefined : raw)
  const prefix = read(env, 'REDIS_PREFIX') ?? 'ai-studio:'
  if (!/^[\w.:-]{1,64}$/.test(prefix)) throw new ConfigError('REDIS_PREFIX', 'up to 64 letters, digits, and . : _ -', prefix)
  return { url: raw, prefix, failure: oneOf(env, 'REDIS_FAILURE', ['local', 'closed'] as const) }
}

function pair(env: Env, id: string, secret: string) {
  const clientId = read(env, id)
  const clientSecret = read(env, secret)
  return clientId && clientSecret ? { clientId, clientSecret } : undefined
}

function apple(env: Env) {
  const clientId = read(env, 'APPLE_OAUTH_CLIENT_ID')
  const teamId = read(env, 'APPLE_OAUTH_TEAM_ID')
  const keyId = read(env, 'APPLE_OAUTH_KEY_ID')
  const privateKey = read(env, 'APPLE_OAUTH_PRIVATE_KEY')?.replaceAll('\\n', '\n')
  return clientId && teamId && keyId && privateKey ? { clientId, teamId, keyId, privateKey } : undefined
}

function oidc(env: Env) {
  const issuer = read(env, 'OIDC_ISSUER')
  const client = pair(env, 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET')
  return issuer && client ? { issuer: httpUrl('OIDC_ISSUER', issuer), ...client } : undefined
}

/**
 * Prometheus metrics (src/observability/), off unless METRICS_TOKEN or METRICS_PORT is set:
 * METRICS_TOKEN makes every scrape present it as a Bearer token; METRICS_PORT serves /metrics
 * on a listener of its own (METRICS_HOST, 127.0.0.1 by default) instead of the main port.
 */
function metrics(env: Env, port: number) {
  const token = read(env, 'METRICS_TOKEN')
  // A secret: never repeated in the error.
  if (token !== undefined && (token.length < 16 || !/^[\x21-\x7e]+$/.test(token)))
    throw new ConfigError('METRICS_TOKEN', 'at least 16 printable characters without spaces (e.g. `openssl rand -hex 32`)')
  const metricsPort = read(env, 'METRICS_PORT') === undefined ? undefined : integer(env, 'METRICS_PORT', 0, 1, 65535)
  if (metricsPort !== undefined && metricsPort === port) throw new ConfigError('METRICS_PORT', 'a port other than PORT', String(metricsPort))
  return { enabled: token !== undefined || metricsPort !== undefined, token, port: metricsPort, host: read(env, 'METRICS_HOST') ?? '127.0.0.1' }
}

/**
 * OpenTelemetry traces (src/observability/tracing.ts), off unless an OTLP endpoint is set: the
 * standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as given) or OTEL_EXPORTER_OTLP_ENDPOINT (with
 * /v1/traces added), with the exporter's standard headers, timeout and compression (each the
 * traces' own variable first, then the shared one). OTEL_CAPTURE_CONTENT=true also records
 * prompts and replies.
 */
function tracing(env: Env) {
  const traces = read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
  const base = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT')
  if (traces === undefined && base === undefined) return undefined
  const url = traces !== undefined ? httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces) : `${httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base!)}/v1/traces`
  /** The variable that sets an exporter setting: the traces' own when it is set, else the shared one. */
  const tracesOwn = (setting: string) => (read(env, `OTEL_EXPORTER_OTLP_TRACES_${setting}`) === undefined ? `OTEL_EXPORTER_OTLP_${setting}` : `OTEL_EXPORTER_OTLP_TRACES_${setting}`)
  return {
    url,
    serviceName: read(env, 'OTEL_SERVICE_NAME') ?? 'ai-studio',
    captureContent: boolean(env, 'OTEL_CAPTURE_CONTENT', false),
    /** How long finished spans wait to be sent in one batch (the standard OTEL_BSP_SCHEDULE_DELAY). */
    scheduleDelayMs: integer(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 0, 3_600_000),
    sampler: sampler(env),
    headers: { ...otlpHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...otlpHeaders(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') },
    timeoutMs: integer(env, tracesOwn('TIMEOUT'), 10_000, 1, MAX_TIMER_MS),
    gzip: oneOf(env, tracesOwn('COMPRESSION'), ['none', 'gzip']) === 'gzip',
  }
}

/**
 * OTLP's headers setting: `name=value` pairs separated by commas, values percent-encoded
 * (`authorization=Bearer%20abc`); empty entries (a trailing comma) are skipped. A pair that could
 * not be sent (no name, no value, a control character) stops start-up rather than every export
 * failing later. The value is not repeated in an error: it often holds a key.
 */
function otlpHeaders(env: Env, name: string): Record<string, string> {
  const raw = read(env, name)
  if (raw === undefined) return {}
  const headers: Record<string, string> = {}
  for (const pair of raw.split(',')) {
    if (!pair.trim()) continue
    const at = pair.indexOf('=')
    const key = pair.slice(0, at).trim()
    let value: string
    try {
      value = decodeURIComponent(pair.slice(at + 1).trim())
    } catch {
      value = ''
    }
    if (at < 1 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(key) || !value || /[^\t\x20-\x7e\x80-\xff]/.test(value))
      throw new ConfigError(name, 'name=value pairs separated by commas, values percent-encoded')
    headers[key.toLowerCase()] = value
  }
  return headers
}

const SAMPLERS = ['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio'] as const

/**
 * Which requests are traced: the standard OTEL_TRACES_SAMPLER (default parentbased_always_on:
 * every request, unless an incoming traceparent says its trace is not sampled) and, for the ratio
 * samplers, OTEL_TRACES_SAMPLER_ARG (the share of traces kept, 0 to 1; default 1).
 */
function sampler(env: Env) {
  const name = oneOf(env, 'OTEL_TRACES_SAMPLER', SAMPLERS)
  const raw = read(env, 'OTEL_TRACES_SAMPLER_ARG')
  const ratio = raw === undefined ? 1 : Number(raw)
  if (raw !== undefined && (raw.trim() === '' || !(ratio >= 0 && ratio <= 1))) throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', 'a number from 0 to 1', raw)
  return { name, ratio }
}

/** Placeholders that sample configurations ship with. */
const placeholderKey = /change.?me|insecure|placeholder|example|your.?(secret|key)/i

/**
 * A key an attacker could guess: short, drawn from a handful of characters (typed by hand), or a
 * placeholder. Random keys pass: 32 hex characters show fewer than 8 different ones almost never.
 */
const weakKey = (key: string) => key.length < 32 || new Set(key).size < 8 || placeholderKey.test(key)

export function loadConfig(env: Env = process.env) {
  const production = read(env, 'NODE_ENV') === 'production'
  const secretKey = read(env, 'SECRET_KEY')
  if (production && (secretKey === undefined || weakKey(secretKey)))
    throw new ConfigError(
      'SECRET_KEY',
      'at least 32 random characters when NODE_ENV=production, not a placeholder (e.g. `openssl rand -base64 48`)',
    )
  const port = integer(env, 'PORT', 8000, 0, 65535)
  const frontendUrl = httpUrl('FRONTEND_URL', read(env, 'FRONTEND_URL') ?? 'http://localhost:5173')
  const publicUrl = httpUrl('PUBLIC_URL', read(env, 'PUBLIC_URL') ?? `http://localhost:${port}`)

  return {
    debug: boolean(env, 'DEBUG', false),
    secretKey,
    port,
    host: read(env, 'HOST') ?? '0.0.0.0',
    publicUrl,
    frontendUrl,
    corsOrigins: urlList(env, 'CORS_ORIGINS', frontendUrl).map((url) => new URL(url).origin),
    database: database(env),
    /** Shared state for several replicas (issue 14); undefined: each process keeps its own. */
    redis: redis(env),
    ollamaUrls: urlList(env, 'OLLAMA_BASE_URL', 'http://localhost:11434'),
    openaiUpstreams: openAiUpstreams(env),
    upstreamTimeoutMs: integer(env, 'UPSTREAM_TIMEOUT_MS', 120_000, 1, MAX_TIMER_MS),
    upstreamCheckIntervalMs: integer(env, 'UPSTREAM_CHECK_INTERVAL_MS', 10_000, 100, MAX_TIMER_MS),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024),
    bodyTimeoutMs: integer(env, 'BODY_TIMEOUT_MS', 30_000, 1, MAX_TIMER_MS),
    // Under Docker's 10 s stop grace period, so that streams cut at the deadline are still logged.
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 8_000, 0, MAX_TIMER_MS),
    // Inference per user: requests in progress at once (0: no cap), the output ceiling, the longest request.
    maxConcurrentRequests: integer(env, 'MAX_CONCURRENT_REQUESTS', 8),
    maxOutputTokens: integer(env, 'MAX_OUTPUT_TOKENS', 32_768, 1, 2 ** 31 - 1),
    maxRequestSeconds: integer(env, 'MAX_REQUEST_SECONDS', 600, 1, Math.floor(MAX_TIMER_MS / 1000)),
    accessTokenMinutes: integer(env, 'ACCESS_TOKEN_MINUTES', 60, 1),
    refreshTokenDays: integer(env, 'REFRESH_TOKEN_DAYS', 30, 1),
    allowRegistration: boolean(env, 'ALLOW_REGISTRATION', true),
    trustProxy: proxyHops(env),
    modelPrices: modelPrices(env),
    logFlushMs: integer(env, 'LOG_FLUSH_MS', 250, 1, 60_000),
    logBatchSize: integer(env, 'LOG_BATCH_SIZE', 500, 1, 100_000),
    logRetentionDays: integer(env, 'LOG_RETENTION_DAYS', 0, 0, 36_500),
    /** Audit-trail entries older than this many days are deleted daily; 0 keeps them for ever. */
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 0, 0, 36_500),
    rateLimits: {
      chat: integer(env, 'RATE_LIMIT_CHAT', 60),
      dashboard: integer(env, 'RATE_LIMIT_DASHBOARD', 120),
      models: integer(env, 'RATE_LIMIT_MODELS', 30),
      embeddings: integer(env, 'RATE_LIMIT_EMBEDDINGS', 300),
      images: integer(env, 'RATE_LIMIT_IMAGES', 10),
      auth: integer(env, 'RATE_LIMIT_AUTH', 20),
      anonymous: integer(env, 'RATE_LIMIT_ANONYMOUS', 300),
    },
    blockSuspicious: boolean(env, 'BLOCK_SUSPICIOUS', false),
    /** The response cache (src/cache/): off at 0 s; per user unless CACHE_SCOPE=global; CACHE_MAX_MB bounds it in memory (without Redis). */
    cache: {
      ttlSeconds: integer(env, 'CACHE_TTL_SECONDS', 0, 0, 31_536_000),
      scope: oneOf(env, 'CACHE_SCOPE', ['user', 'global'] as const),
      maxBytes: integer(env, 'CACHE_MAX_MB', 64, 1, 1_048_576) * 1024 * 1024,
    },
    /** Conversations kept by the server (src/conversations/): an image part larger than this is stored as a placeholder. */
    conversationMaxImageBytes: integer(env, 'CONVERSATION_MAX_IMAGE_BYTES', 2 * 1024 * 1024, 0),
    metrics: metrics(env, port),
    tracing: tracing(env),
    /** How the server prints its log lines: `text` as ever, or `json`, one object per line (with a line per API request). */
    logFormat: oneOf(env, 'LOG_FORMAT', ['text', 'json'] as const),
    /** Lines below this level are not printed. */
    logLevel: oneOf(env, 'LOG_LEVEL', ['info', 'debug', 'warn', 'error'] as const),
    oauth: {
      google: pair(env, 'GOOGLE_OAUTH_CLIENT_ID', 'GOOGLE_OAUTH_CLIENT_SECRET'),
      github: pair(env, 'GITHUB_OAUTH_CLIENT_ID', 'GITHUB_OAUTH_CLIENT_SECRET'),
      apple: apple(env),
      oidc: oidc(env),
    },
  }
}

export type Config = ReturnType<typeof loadConfig>
