import { afterAll, describe, expect, test } from 'bun:test'
import { t } from 'elysia'
import { testApp } from './support/app'

const { app, call, close } = await testApp({ MAX_BODY_BYTES: '2048' })
// A route with a body schema, added here to exercise validation through the real error plugin.
app.post('/api/echo', ({ body }) => body, { body: t.Object({ name: t.String(), count: t.Integer({ minimum: 0 }) }) })
afterAll(close)

const isoTimestamp = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)

describe('health', () => {
  test.each(['/api/auth/health/', '/api/auth/health'])('%s answers healthy', async (path) => {
    const res = await call(path)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'healthy', timestamp: isoTimestamp })
  })
})

describe('error envelopes', () => {
  test('unknown /api route → 404 in the seed format', async () => {
    const res = await call('/api/nothing-here/')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: 'Not found', message: expect.any(String), timestamp: isoTimestamp })
  })

  test('unknown /v1 route → 404 in the OpenAI format', async () => {
    const res = await call('/v1/nothing-here')
    expect(res.status).toBe(404)
    const body = await res.json()
    expect(body).toEqual({ error: { message: expect.any(String), type: 'not_found_error', param: null, code: 'not_found' } })
  })

  test('a known path with the wrong method → 405 with Allow', async () => {
    const res = await call('/api/auth/health/', { method: 'DELETE' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toContain('GET')
    expect((await res.json()).error).toBe('Method not allowed')
  })

  test('malformed JSON → 400', async () => {
    const res = await call('/api/echo/', { method: 'POST', body: '{"name": ', headers: { 'content-type': 'application/json' } })
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.error).toBe('Validation error')
    expect(body.message).toMatch(/JSON/)
  })

  test('a validation failure names the field', async () => {
    const res = await call('/api/echo', { method: 'POST', json: { name: 'x', count: -1 } })
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.message).toContain('count')
    expect(JSON.stringify(body)).not.toContain('stack')
  })

  test('a missing body → 400 saying a JSON object is expected', async () => {
    const res = await call('/api/auth/logout/', { method: 'POST' })
    expect(res.status).toBe(400)
    expect((await res.json()).message).toBe('The request body must be a JSON object, sent with Content-Type: application/json')
  })

  test('a body over the limit → 413', async () => {
    const res = await call('/api/echo', { method: 'POST', json: { name: 'x'.repeat(4096), count: 1 } })
    expect(res.status).toBe(413)
    expect((await res.json()).error).toBe('Payload too large')
  })

  test('a body within the limit passes', async () => {
    const res = await call('/api/echo', { method: 'POST', json: { name: 'ok', count: 2 } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ name: 'ok', count: 2 })
  })
})

describe('request id', () => {
  test('every response has one, errors included', async () => {
    for (const path of ['/api/auth/health/', '/api/missing', '/v1/missing']) {
      const res = await call(path)
      expect(res.headers.get('x-request-id')).toMatch(/^[\w-]{8,}$/)
    }
  })

  test('a sane incoming id is kept, an insane one replaced', async () => {
    const kept = await call('/api/auth/health/', { headers: { 'x-request-id': 'trace-123' } })
    expect(kept.headers.get('x-request-id')).toBe('trace-123')
    const replaced = await call('/api/auth/health/', { headers: { 'x-request-id': '<script>' } })
    expect(replaced.headers.get('x-request-id')).not.toBe('<script>')
  })
})

describe('CORS', () => {
  const preflight = (origin: string) =>
    call('/api/auth/health/', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    })

  test('a preflight from the frontend origin is answered', async () => {
    const res = await preflight('http://localhost:5173')
    expect(res.status).toBeLessThan(300)
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    const methods = res.headers.get('access-control-allow-methods')!
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) expect(methods).toContain(method)
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Content-Type.*Authorization/i)
  })

  test('a preflight from another origin is not allowed', async () => {
    const res = await preflight('http://evil.example')
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('CORS_ORIGINS replaces the default', async () => {
    const other = await testApp({ CORS_ORIGINS: 'https://studio.example.com, https://b.example.com' })
    const res = await other.call('/api/auth/health/', { headers: { origin: 'https://b.example.com' } })
    expect(res.headers.get('access-control-allow-origin')).toBe('https://b.example.com')
    const refused = await other.call('/api/auth/health/', { headers: { origin: 'http://localhost:5173' } })
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    await other.close()
  })
})
