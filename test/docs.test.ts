import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'

const { call, close } = await testApp()
afterAll(close)

describe('API docs', () => {
  test('/swagger/json is an OpenAPI 3 document describing the routes', async () => {
    const res = await call('/swagger/json')
    expect(res.status).toBe(200)
    const doc = await res.json()
    expect(doc.openapi).toMatch(/^3\./)
    expect(doc.info.title).toBe('AI Studio backend')
    expect(doc.paths['/api/auth/health']?.get).toBeDefined()
    expect(Object.keys(doc.paths).some((path) => path.startsWith('/swagger'))).toBe(false)
    // One spelling for every path (each also answers with a trailing slash), with named parameters.
    for (const path of Object.keys(doc.paths)) expect(path).toMatch(/^\/(api|v1)(\/[\w.-]+|\/\{\w+\})+$/)
    expect(doc.paths['/v1/models/{id}']?.get).toBeDefined()
  })

  test.each(['/swagger', '/swagger/'])('%s references only local assets, each served with its type', async (path) => {
    const res = await call(path)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/html')
    const html = await res.text()
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
    expect(refs.length).toBeGreaterThanOrEqual(2)
    for (const ref of refs) expect(ref.startsWith('/')).toBe(true)
    expect(html).not.toMatch(/https?:\/\/(unpkg|cdn|jsdelivr)/)
    expect(html).not.toMatch(/<script>[^<]/)
    const expected: Record<string, string> = { js: 'text/javascript', css: 'text/css' }
    for (const ref of refs) {
      const asset = await call(ref)
      expect(asset.status).toBe(200)
      expect(asset.headers.get('content-type')).toContain(expected[ref.split('.').pop()!]!)
      const body = await asset.text()
      if (ref.endsWith('init.js')) expect(body).toContain("url: '/swagger/json'")
      else expect(body.length).toBeGreaterThan(10_000)
    }
  })

  test('an unknown asset is 404', async () => {
    expect((await call('/swagger/assets/../../etc/passwd')).status).toBe(404)
    expect((await call('/swagger/assets/nope.js')).status).toBe(404)
  })
})
