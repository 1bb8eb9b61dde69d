// The admin UI as the server delivers it: one HTML shell for every client-side route, and every
// browser module it imports served from the server itself with its type, revalidated by ETag.
import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { testApp } from './support/app'

const { call, close } = await testApp()
afterAll(close)

const shell = await (await call('/admin')).text()

describe('admin UI shell', () => {
  test.each(['/admin', '/admin/', '/admin/users', '/admin/logs', '/admin/keys/', '/admin/anything/deeper'])(
    '%s serves the same HTML shell under the strict CSP',
    async (path) => {
      const res = await call(path)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
      expect(await res.text()).toBe(shell)
    },
  )

  test('has no inline script, no inline handler and no remote reference', () => {
    expect(shell).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(shell).not.toMatch(/\son[a-z]+=/i)
    expect(shell).not.toMatch(/(?:src|href)="(?:https?:)?\/\//)
    expect(shell).toContain('href="#main"')
  })

  test('is left out of the OpenAPI document', async () => {
    const doc = await (await call('/swagger/json')).json()
    expect(Object.keys(doc.paths).filter((path) => path.startsWith('/admin'))).toEqual([])
  })

  test('other methods get 405', async () => {
    const res = await call('/admin/users', { method: 'POST' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET')
  })
})

describe('admin UI assets', () => {
  test('every asset the shell and its modules reference is served with its type', async () => {
    const seen = new Set<string>()
    const queue = [...shell.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1]!)
    expect(queue).toEqual(expect.arrayContaining(['/admin/assets/app.js', '/admin/assets/chart.umd.js', '/admin/assets/style.css']))
    while (queue.length) {
      const path = queue.shift()!
      if (seen.has(path)) continue
      seen.add(path)
      const res = await call(path)
      expect({ path, status: res.status }).toEqual({ path, status: 200 })
      const type = path.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8'
      expect(res.headers.get('content-type')).toBe(type)
      const body = await res.text()
      if (path.endsWith('.js') && !path.endsWith('chart.umd.js'))
        for (const [, name] of body.matchAll(/from '\.\/([\w-]+\.js)'/g)) queue.push(`/admin/assets/${name}`)
    }
    // Every browser file in src/admin/ui is reachable from the shell, so none is forgotten in ui.ts.
    const files = readdirSync(join(import.meta.dir, '../src/admin/ui')).filter((name) => name !== 'index.html')
    expect([...seen].map((path) => path.slice('/admin/assets/'.length)).sort()).toEqual([...files, 'chart.umd.js'].sort())
  })

  test('Chart.js is the embedded UMD build', async () => {
    const body = await (await call('/admin/assets/chart.umd.js')).text()
    expect(body).toContain('Chart.js v4.6.1')
    expect(body.length).toBeGreaterThan(100_000)
  })

  test('an unchanged asset revalidates with 304, a changed ETag gets the body', async () => {
    const first = await call('/admin/assets/app.js')
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"\w+"$/)
    expect(first.headers.get('cache-control')).toBe('no-cache')
    const again = await call('/admin/assets/app.js', { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    expect((await call('/admin/assets/app.js', { headers: { 'if-none-match': '"stale"' } })).status).toBe(200)
    expect((await call('/admin', { headers: { 'if-none-match': (await call('/admin')).headers.get('etag')! } })).status).toBe(304)
  })

  test('an unknown asset is 404, and paths cannot climb out', async () => {
    const names = ['nope.js', '..%2Fui.ts', '../../package.json', 'index.html', 'constructor', '__proto__', 'hasOwnProperty', 'toString']
    for (const path of names.map((name) => `/admin/assets/${name}`))
      expect({ path, status: (await call(path)).status }).toEqual({ path, status: 404 })
  })
})
