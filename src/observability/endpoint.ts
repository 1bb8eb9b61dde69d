// GET /metrics: the scrape, in Prometheus's text format. Served on the main port behind
// METRICS_TOKEN (a Bearer token, compared in constant time), or on a listener of its own
// (METRICS_PORT on METRICS_HOST, 127.0.0.1 by default) that nothing else is served on — there too
// behind the token when one is set. Off (404) when neither is set.
import { createHash, timingSafeEqual } from 'node:crypto'
import { Elysia } from 'elysia'
import { ConfigError } from '../config'
import { errorResponse, HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { metricsOf, type Metrics } from './metrics'

export const METRICS_PATH = '/metrics'

/** The exposition format's content type (version 0.0.4). */
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

const digest = (text: string) => createHash('sha256').update(text).digest()

/** Answers a scrape: 401 without the token (when one is set), else every metric. */
export function scraper(metrics: Metrics, token: string | undefined): (request: Request) => Promise<Response> {
  // Digests of equal length: the comparison takes the same time whatever was sent.
  const expected = token === undefined ? undefined : digest(token)
  const refused = () =>
    errorResponse(
      METRICS_PATH,
      new HttpError(401, 'Scraping the metrics takes the metrics token: Authorization: Bearer <METRICS_TOKEN>', {
        code: 'invalid_token',
        headers: { 'www-authenticate': 'Bearer realm="metrics"' },
      }),
    )
  return async (request) => {
    if (expected) {
      const sent = /^Bearer +(\S+) *$/i.exec(request.headers.get('authorization') ?? '')?.[1]
      if (sent === undefined || !timingSafeEqual(digest(sent), expected)) return refused()
    }
    return new Response(await metrics.exposition(), { headers: { 'content-type': CONTENT_TYPE, 'cache-control': 'no-store' } })
  }
}

/** GET /metrics on the main port: only with METRICS_TOKEN and without METRICS_PORT. */
export function metricsRoute(rt: Runtime) {
  const plugin = new Elysia({ name: 'metrics' })
  const metrics = metricsOf(rt)
  const { token, port } = rt.config.metrics
  if (!metrics || port !== undefined) return plugin
  const scrape = scraper(metrics, token)
  return plugin.get(METRICS_PATH, ({ request }) => scrape(request), { detail: { hide: true } })
}

/** The listener of METRICS_PORT, serving GET /metrics alone; undefined without METRICS_PORT. */
export function metricsListener(rt: Runtime) {
  const metrics = metricsOf(rt)
  const { token, port, host } = rt.config.metrics
  if (!metrics || port === undefined) return undefined
  const scrape = scraper(metrics, token)
  try {
    return Bun.serve({
      port,
      hostname: host,
      fetch(request) {
        const path = new URL(request.url).pathname.replace(/\/+$/, '')
        if (path !== METRICS_PATH) return errorResponse(path, new HttpError(404, 'Only /metrics is served on METRICS_PORT', { code: 'not_found' }))
        if (request.method !== 'GET' && request.method !== 'HEAD')
          return errorResponse(path, new HttpError(405, 'GET /metrics', { code: 'method_not_allowed', headers: { allow: 'GET, HEAD' } }))
        return scrape(request)
      },
      error: () => new Response('Internal server error', { status: 500 }),
    })
  } catch (error) {
    throw new ConfigError('METRICS_HOST and METRICS_PORT', `an address this machine can listen on (${(error as Error).message})`, `${host}:${port}`)
  }
}
