import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../src/config'

describe('configuration', () => {
  test('defaults need no environment at all', () => {
    const config = loadConfig({})
    expect(config.port).toBe(8000)
    expect(config.database).toEqual({ kind: 'sqlite', path: './data/studio.db' })
    expect(config.frontendUrl).toBe('http://localhost:5173')
    expect(config.corsOrigins).toEqual(['http://localhost:5173'])
    expect(config.ollamaUrls).toEqual(['http://localhost:11434'])
    expect(config.rateLimits).toEqual({ chat: 60, dashboard: 120, models: 30, embeddings: 300, images: 10, auth: 20, anonymous: 300 })
    expect(config.upstreamTimeoutMs).toBe(120_000)
    expect(config.maxBodyBytes).toBe(1024 * 1024)
  })

  test.each([
    ['PORT', 'abc', /PORT: expected an integer/],
    ['PORT', '70000', /PORT: expected an integer from 0 to 65535/],
    ['DATABASE_URL', 'foo://x', /DATABASE_URL: expected sqlite:\/\//],
    ['OLLAMA_BASE_URL', 'not a url', /OLLAMA_BASE_URL: expected/],
    ['TRUST_PROXY', 'maybe', /TRUST_PROXY: expected true, false, or how many proxies/],
    ['TRUST_PROXY', '11', /TRUST_PROXY: expected an integer from 0 to 10/],
    ['RATE_LIMIT_CHAT', '-1', /RATE_LIMIT_CHAT/],
    ['UPSTREAM_TIMEOUT_MS', '1.5', /UPSTREAM_TIMEOUT_MS/],
  ])('%s=%s is refused naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrow(message)
  })

  test('traces: off without an OTLP endpoint; the traces endpoint as given, the base one with /v1/traces; bad values refused', () => {
    expect(loadConfig({}).tracing).toBeUndefined()
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
      url: 'http://collector:4318/v1/traces',
      serviceName: 'ai-studio',
      captureContent: false,
      scheduleDelayMs: 5000,
      sampler: { name: 'parentbased_always_on', ratio: 1 },
      headers: {},
      timeoutMs: 10_000,
      gzip: false,
    })
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).tracing?.sampler).toEqual({
      name: 'parentbased_traceidratio',
      ratio: 0.25,
    })
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/)
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/)
    const specific = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/traces', OTEL_SERVICE_NAME: 'gw', OTEL_CAPTURE_CONTENT: 'true' })
    expect(specific.tracing).toMatchObject({ url: 'https://b/traces', serviceName: 'gw', captureContent: true })
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/)
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_BSP_SCHEDULE_DELAY: 'soon' })).toThrow(/OTEL_BSP_SCHEDULE_DELAY/)
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_CAPTURE_CONTENT: 'maybe' })).toThrow(/OTEL_CAPTURE_CONTENT/)
  })

  test("traces: the exporter's headers, timeout and compression, the traces' own settings before the shared ones; bad values refused without repeating them", () => {
    const exporter = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20shared, x-team=gateway',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20traces',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '3000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none',
    }).tracing
    expect(exporter).toMatchObject({ headers: { authorization: 'Bearer traces', 'x-team': 'gateway' }, timeoutMs: 3000, gzip: false })
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP', OTEL_EXPORTER_OTLP_TIMEOUT: '2000' }).tracing).toMatchObject({ gzip: true, timeoutMs: 2000 })
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_EXPORTER_OTLP_HEADERS: 'x-a=1,, x-b=2,' }).tracing?.headers).toEqual({ 'x-a': '1', 'x-b': '2' })
    for (const headers of ['api-key', '=secret-value', 'api key=secret-value', 'api-key=', 'api-key=%E0%A4%A', 'api-key=secret-value%0Ainjected: 1', 'api-key=secret-value%00']) {
      const refusal = () => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_EXPORTER_OTLP_HEADERS: headers })
      expect(refusal).toThrow(/OTEL_EXPORTER_OTLP_HEADERS: expected name=value pairs/)
      expect(refusal).not.toThrow(/secret-value/)
    }
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '0' })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_TIMEOUT/)
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a', OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' })).toThrow(/OTEL_EXPORTER_OTLP_COMPRESSION/)
  })

  test('several Ollama hosts', () => {
    expect(loadConfig({ OLLAMA_BASE_URL: 'http://a:11434, http://b:11434/' }).ollamaUrls).toEqual([
      'http://a:11434',
      'http://b:11434',
    ])
  })

  test('production refuses a missing, short, repetitive or placeholder SECRET_KEY', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SECRET_KEY: expected at least 32 random characters/)
    expect(() => loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'short' })).toThrow(/SECRET_KEY/)
    for (const weak of ['x'.repeat(40), 'ab'.repeat(20), 'changeme-changeme-changeme-changeme', 'django-insecure-0123456789abcdefghijklmnop'])
      expect(() => loadConfig({ NODE_ENV: 'production', SECRET_KEY: weak })).toThrow(/SECRET_KEY/)
    const strong = 'q8Vf2LmZ0rT6yWb1NcXe5KpJ9sHd3GaU'
    expect(loadConfig({ NODE_ENV: 'production', SECRET_KEY: strong }).secretKey).toBe(strong)
  })

  test('an OAuth provider is configured only when all of its settings are present', () => {
    expect(loadConfig({ GOOGLE_OAUTH_CLIENT_ID: 'id' }).oauth.google).toBeUndefined()
    expect(loadConfig({ GOOGLE_OAUTH_CLIENT_ID: 'id', GOOGLE_OAUTH_CLIENT_SECRET: 's' }).oauth.google).toEqual({
      clientId: 'id',
      clientSecret: 's',
    })
  })
})
