// What the metrics cost the gateway's hot path (issue 19), measured in this process alone, so that
// a busy machine cannot blur it: one request's recording (`requestEnded`, what the telemetry
// plugin calls as each request ends) over the label sets of a realistic traffic mix, and one
// scrape's exposition after that. bench/gateway.ts measures the whole gateway with metrics on.
// Run alone: `bun bench/metrics.ts`.
import { createMetrics, type EndedRequest } from '../src/observability/metrics'

const REQUESTS = 1_000_000
const metrics = createMetrics()
const upstreams = ['http://ollama-1:11434', 'http://ollama-2:11434']
const models = ['llama3.2', 'qwen3:8b', 'nomic-embed-text', 'gemma3:4b']
metrics.watchUpstreams({ hosts: upstreams.map((url) => ({ url, kind: 'ollama' })), lists: (model) => models.includes(model) })
const routes = ['/v1/chat/completions', '/v1/chat/completions', '/v1/chat/completions', '/v1/embeddings', '/v1/messages', '/v1/responses', '/v1/models', '/api/auth/me']
const statuses = [200, 200, 200, 200, 200, 200, 429, 400, 502]
const mix: [string, EndedRequest][] = Array.from({ length: 997 }, (_, i) => {
  const status = statuses[i % statuses.length]!
  return [
    routes[i % routes.length]!,
    {
      method: i % 8 === 6 || i % 8 === 7 ? 'GET' : 'POST',
      status,
      latencyMs: 200 + (i % 50) * 13,
      outcome: status === 200 ? 'ok' : status >= 500 ? 'upstream_error' : 'client_error',
      errorType: status === 429 ? 'rate_limit_exceeded' : null,
      model: i % 8 < 6 ? models[i % models.length]! : null,
      upstream: upstreams[i % 2]!,
      promptTokens: 20 + (i % 100),
      completionTokens: status === 200 ? 1 + (i % 400) : 0,
      ttftMs: 30 + (i % 40),
    },
  ]
})

for (let i = 0; i < 100_000; i++) metrics.requestEnded(...mix[i % mix.length]!) // warm-up: every label set made
const started = performance.now()
for (let i = 0; i < REQUESTS; i++) metrics.requestEnded(...mix[i % mix.length]!)
const perRequestUs = ((performance.now() - started) * 1000) / REQUESTS

const SCRAPES = 200
let bytes = 0
const scrapeStarted = performance.now()
for (let i = 0; i < SCRAPES; i++) bytes = (await metrics.exposition()).length
const perScrapeMs = (performance.now() - scrapeStarted) / SCRAPES
const series = (await metrics.exposition()).split('\n').filter((line) => line && !line.startsWith('#')).length

console.log(`\nMetrics on the hot path — Bun ${Bun.version}\n`)
console.log(`| measure | value |\n| --- | --- |`)
console.log(`| recording one ended request (requestEnded) | ${perRequestUs.toFixed(3)} µs |`)
console.log(`| one scrape (exposition of ${series} samples, ${(bytes / 1024).toFixed(0)} KiB) | ${perScrapeMs.toFixed(2)} ms |`)
console.log(`\nAt 1,000 requests/s and a scrape every second: ${((perRequestUs * 1000) / 1000 + perScrapeMs).toFixed(2)} ms of CPU per second, ${(((perRequestUs * 1000) / 1000 + perScrapeMs) / 10).toFixed(3)} % of one core\n`)
