// The real `serve` process (issue 19): METRICS_PORT serves /metrics on a listener of its own
// (and nothing else; the main port does not), counting WebSocket chats and open sockets; with
// LOG_FORMAT=json every line the process prints on stdout is one JSON object, with a line per
// API request carrying its request id, route, status, latency, model, user id and outcome;
// LOG_LEVEL drops the lines below it.
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config'
import { startRuntime } from '../src/runtime'
import { startFakeOllama } from './support/fake-ollama'
import { freePort, waitFor } from './support/process'
import { parseScrape, total } from './support/prometheus'
import { redisTestUrl, testPrefix } from './support/redis'
import { seedUser } from './support/users'

const folder = mkdtempSync(join(tmpdir(), 'studio-metrics-'))
const fake = await startFakeOllama()
afterAll(() => {
  fake.stop()
  rmSync(folder, { recursive: true, force: true })
})

/** `serve` on a database of its own with a user; stdout collected; `stop` sends SIGTERM and waits. */
async function startServer(name: string, env: Record<string, string>) {
  const [port, metricsPort] = [await freePort(), await freePort()]
  const database = `sqlite://${join(folder, `${name}.db`)}`
  const rt = await startRuntime(loadConfig({ DATABASE_URL: database }))
  const user = await seedUser(rt)
  await rt.close()
  const server = Bun.spawn([process.execPath, join(import.meta.dir, '..', 'src', 'index.ts'), 'serve'], {
    cwd: folder,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: database, OLLAMA_BASE_URL: fake.url, METRICS_PORT: String(metricsPort), ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const stdout = new Response(server.stdout).text()
  await waitFor(`http://127.0.0.1:${port}/api/auth/health`)
  return {
    base: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    user,
    async stop() {
      server.kill('SIGTERM')
      expect(await server.exited).toBe(0)
      return (await stdout).split('\n').filter(Boolean)
    },
  }
}

const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'Hello' }] }
const deploy = join(import.meta.dir, '..', 'deploy')

/** A PromQL expression without its label matchers and `by (…)` lists, where label names are. */
const withoutLabels = (expr: string) => expr.replace(/\b(by|without) *\([^)]*\)/g, '').replace(/\{[^}]*\}/g, '')

/** The metric families a PromQL expression names (a histogram's by its own name, not _bucket/_sum/_count). */
const familiesIn = (expr: string) => [...withoutLabels(expr).matchAll(/\b((?:gen_ai|http_server|ai_studio|process)_[a-z_]+)\b/g)].map((match) => match[1]!.replace(/_(bucket|sum|count)$/, ''))

/** Checks deploy/: every family the Grafana dashboard queries is in a real scrape, with the type the query needs; Prometheus scrapes what Compose serves. */
async function checkDeploy(scrapeText: string) {
  const types = new Map([...scrapeText.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => [match[1]!, match[2]!]))
  const dashboard = await Bun.file(join(deploy, 'grafana', 'dashboards', 'ai-studio.json')).json()
  const queried = dashboard.panels.flatMap((panel: { targets: { expr: string }[] }) => panel.targets.flatMap((target) => familiesIn(target.expr)))
  expect(queried.length).toBeGreaterThan(20)
  for (const family of new Set<string>(queried)) expect({ family, type: types.get(family) }).toEqual({ family, type: expect.any(String) })
  for (const panel of dashboard.panels)
    for (const { expr } of panel.targets)
      for (const [, name, suffix] of withoutLabels(expr).matchAll(/\b((?:gen_ai|http_server|ai_studio)_[a-z_]+?)_(bucket|sum|count)\b/g)) expect({ name, suffix, type: types.get(name!) }).toEqual({ name, suffix, type: 'histogram' })
  const prometheus = Bun.YAML.parse(await Bun.file(join(deploy, 'prometheus.yml')).text()) as any
  const compose = Bun.YAML.parse(await Bun.file(join(deploy, 'compose.yaml')).text()) as any
  const port = compose.services['gateway-1'].environment.METRICS_PORT
  expect(prometheus.scrape_configs[0].static_configs[0].targets).toEqual([`gateway-1:${port}`, `gateway-2:${port}`])
}

/** One chat over the WebSocket, answered to its end. */
async function socketChat(base: string, token: string) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/chat/ws`, ['ai-studio', `bearer.${token}`])
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error('the socket did not open'))
  })
  const done = new Promise<void>((resolve) => {
    ws.onmessage = (event) => {
      if (JSON.parse(String(event.data)).type === 'done') resolve()
    }
  })
  ws.send(JSON.stringify({ type: 'chat', id: 'a', request: hello }))
  await done
  return ws
}

test('METRICS_PORT and LOG_FORMAT=json on the real server: the scrape counts HTTP and WebSocket chats and has every family the Grafana dashboard queries; every stdout line is JSON', async () => {
  const server = await startServer('json', { LOG_FORMAT: 'json', REDIS_URL: redisTestUrl, REDIS_PREFIX: testPrefix() })
  const chats = []
  for (const stream of [false, true, false]) {
    const res = await fetch(`${server.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.user.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...hello, stream }),
    })
    await res.text()
    chats.push(res.headers.get('x-request-id')!)
  }
  const unknown = await fetch(`${server.base}/v1/no-such-route`)
  const ws = await socketChat(server.base, server.user.apiKey)

  // The listener of its own: no token needed (none set), nothing else served; the main port has no /metrics.
  expect((await fetch(server.metricsUrl.replace('/metrics', '/v1/models'))).status).toBe(404)
  expect((await fetch(`${server.base}/metrics`)).status).toBe(404)
  await Bun.sleep(50)
  const res = await fetch(server.metricsUrl)
  expect(res.status).toBe(200)
  const text = await res.text()
  const metrics = await parseScrape(text)
  await checkDeploy(text)
  expect(total(metrics, 'ai_studio_redis_up')).toBe(1)
  expect(total(metrics, 'http_server_request_duration_seconds', { http_route: '/v1/chat/completions', http_response_status_code: '200' })).toBe(3)
  expect(total(metrics, 'http_server_request_duration_seconds', { http_route: '/v1/chat/ws', http_response_status_code: '200' })).toBe(1)
  expect(total(metrics, 'gen_ai_client_operation_duration_seconds', { gen_ai_request_model: 'llama3.2', outcome: 'ok' })).toBe(4)
  expect(total(metrics, 'ai_studio_websockets_open')).toBe(1)
  expect(total(metrics, 'ai_studio_websocket_requests_in_flight')).toBe(0)
  expect(total(metrics, 'ai_studio_open_streams')).toBe(0)
  // The scrape is on the other listener: nothing is in flight on the main one.
  expect(total(metrics, 'http_server_active_requests')).toBe(0)
  ws.close()

  const lines = await server.stop()
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  for (const line of parsed) {
    expect(new Date(line.time as string).toISOString()).toBe(line.time as string)
    expect(['debug', 'info', 'warn', 'error']).toContain(line.level as string)
    expect(typeof line.msg).toBe('string')
  }
  expect(parsed.some((line) => (line.msg as string).startsWith('AI Studio backend listening on'))).toBe(true)
  expect(parsed.some((line) => line.msg === 'stopped cleanly')).toBe(true)
  for (const requestId of chats)
    expect(parsed.find((line) => line.request_id === requestId)).toMatchObject({
      level: 'info',
      method: 'POST',
      route: '/v1/chat/completions',
      status: 200,
      model: 'llama3.2',
      user_id: server.user.userId,
      outcome: 'ok',
    })
  expect(parsed.find((line) => line.route === '/v1/chat/ws')).toMatchObject({ status: 200, model: 'llama3.2', user_id: server.user.userId, outcome: 'ok' })
  expect(parsed.find((line) => line.request_id === unknown.headers.get('x-request-id'))).toMatchObject({ status: 404, outcome: 'client_error', user_id: null })
  expect(parsed.filter((line) => line.request_id).every((line) => (line.latency_ms as number) > 0)).toBe(true)
})

test('LOG_LEVEL=warn: no request or start-up lines (info) are printed; METRICS_TOKEN guards the listener of METRICS_PORT too', async () => {
  const token = 'process-metrics-token-0123456789'
  const server = await startServer('quiet', { LOG_FORMAT: 'json', LOG_LEVEL: 'warn', METRICS_TOKEN: token })
  await fetch(`${server.base}/v1/models`, { headers: { authorization: `Bearer ${server.user.apiKey}` } })
  expect((await fetch(server.metricsUrl)).status).toBe(401)
  expect((await fetch(server.metricsUrl, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
  const lines = await server.stop()
  expect(lines.map((line) => JSON.parse(line).level).filter((level) => level === 'info' || level === 'debug')).toEqual([])
})

test('the default text format is unchanged: plain lines, no request lines', async () => {
  const server = await startServer('text', {})
  await fetch(`${server.base}/v1/models`, { headers: { authorization: `Bearer ${server.user.apiKey}` } })
  const lines = await server.stop()
  expect(lines[0]).toStartWith('AI Studio backend listening on http://127.0.0.1:')
  expect(lines).toContain('stopped cleanly')
  expect(lines.some((line) => line.startsWith('{'))).toBe(false)
})
