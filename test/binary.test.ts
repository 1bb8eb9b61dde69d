// Builds the single executable and runs it alone in an empty folder: no node_modules, no source.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pkg from '../package.json'
import { loadConfig } from '../src/config'
import { startRuntime } from '../src/runtime'
import { buildBinary } from './support/binary'
import { logRows } from './support/log'
import { freePort, run, waitFor } from './support/process'

const folder = mkdtempSync(join(tmpdir(), 'studio-binary-'))
let server: ReturnType<typeof Bun.spawn>
let base = ''
let output = ''

beforeAll(async () => {
  copyFileSync(await buildBinary(), join(folder, 'ai-studio'))
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  server = Bun.spawn([join(folder, 'ai-studio')], {
    cwd: folder,
    env: { PORT: String(port), HOST: '127.0.0.1', PATH: '/usr/bin:/bin', TRUST_PROXY: 'true' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  await waitFor(`${base}/api/auth/health/`, 20_000)
}, 120_000)

afterAll(() => {
  server?.kill('SIGKILL')
  rmSync(folder, { recursive: true, force: true })
})

describe('the compiled binary, alone in an empty folder', () => {
  test('serves health', async () => {
    const res = await fetch(`${base}/api/auth/health/`)
    expect(res.status).toBe(200)
    expect((await res.json()).status).toBe('healthy')
  })

  test('migrated a fresh database in ./data', () => {
    expect(existsSync(join(folder, 'data', 'studio.db'))).toBe(true)
  })

  test('serves the OpenAPI document, Swagger UI and its embedded assets', async () => {
    const doc = await (await fetch(`${base}/swagger/json`)).json()
    expect(doc.openapi).toMatch(/^3\./)
    const html = await (await fetch(`${base}/swagger`)).text()
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
    expect(refs.length).toBeGreaterThanOrEqual(2)
    for (const ref of refs) {
      const asset = await fetch(`${base}${ref}`)
      expect(asset.status).toBe(200)
      expect(asset.headers.get('content-type')).toMatch(/text\/(javascript|css)/)
    }
  })

  test('serves the admin UI shell and its embedded assets', async () => {
    const html = await (await fetch(`${base}/admin/users`)).text()
    const refs = [...html.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1]!)
    expect(refs).toContain('/admin/assets/app.js')
    for (const ref of [...refs, '/admin/assets/overview.js']) {
      const asset = await fetch(`${base}${ref}`)
      expect({ ref, status: asset.status }).toEqual({ ref, status: 200 })
      expect((await asset.text()).length).toBeGreaterThan(500)
    }
  })

  test('answers an oversized body with 413 over a real socket', async () => {
    const res = await fetch(`${base}/api/auth/health/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }),
    })
    expect(res.status).toBe(413)
    expect((await res.json()).error).toBe('Payload too large')
  })

  test('caps a chunked body (no Content-Length) at the same limit, and reads a small one', async () => {
    const chunked = (text: string) =>
      new ReadableStream({
        start(controller) {
          for (let i = 0; i < text.length; i += 64 * 1024) controller.enqueue(new TextEncoder().encode(text.slice(i, i + 64 * 1024)))
          controller.close()
        },
      })
    const big = await fetch(`${base}/api/auth/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunked(JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(3 * 1024 * 1024) })),
      duplex: 'half',
    } as RequestInit)
    expect(big.status).toBe(413)
    expect((await big.json()).error).toBe('Payload too large')
    const small = await fetch(`${base}/api/auth/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunked(JSON.stringify({ email: 'nobody@example.com', password: 'wrong password' })),
      duplex: 'half',
    } as RequestInit)
    expect(small.status).toBe(401)
    expect((await small.json()).message).toBe('Invalid email or password')
  })

  test('routes requests whatever their Host, short ones (nginx `proxy_pass http://api;`) included', async () => {
    for (const host of ['api', 'x', 'llm:8000', 'gateway.internal']) {
      const res = await fetch(`${base}/api/auth/health/?probe=1`, { headers: { host } })
      expect({ host, status: res.status }).toEqual({ host, status: 200 })
    }
    const login = await fetch(`${base}/api/auth/login/`, {
      method: 'POST',
      headers: { host: 'api', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.com', password: 'wrong password' }),
    })
    expect(login.status).toBe(401)
  })

  test('its healthcheck command reports the running server healthy', async () => {
    const port = new URL(base).port
    const check = await run([join(folder, 'ai-studio'), 'healthcheck'], { cwd: folder, env: { PORT: port } })
    expect(check.code).toBe(0)
    // A proxy for outbound calls (OAuth providers, say) must not stand between it and the server.
    const proxied = await run([join(folder, 'ai-studio'), 'healthcheck'], {
      cwd: folder,
      env: { PORT: port, HOST: '127.0.0.1', HTTP_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9' },
    })
    expect(proxied.code).toBe(0)
    const wrongPort = await run([join(folder, 'ai-studio'), 'healthcheck'], { cwd: folder, env: { PORT: '9' } })
    expect(wrongPort.code).toBe(1)
  })

  test('--version prints the version of package.json', async () => {
    const version = await run([join(folder, 'ai-studio'), '--version'], { cwd: folder })
    expect(version).toEqual({ code: 0, stdout: `ai-studio ${pkg.version}\n`, stderr: '' })
  })

  test('sends a browser opened on / to the admin UI', async () => {
    const res = await fetch(`${base}/`, { redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/admin')
  })

  test('logs requests with their country from the GeoIP table inside the binary', async () => {
    for (const address of ['8.8.8.8', '2a00:1450:4001:80b::200e'])
      expect((await fetch(`${base}/api/auth/health/`, { headers: { 'x-forwarded-for': address } })).status).toBe(200)
  })

  test('stops cleanly on SIGTERM', { timeout: 15_000 }, async () => {
    server.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    output = await new Response(server.stdout as ReadableStream).text()
    expect(output).toContain('stopped cleanly')
  })

  test('flushed the request log on SIGTERM, countries included', async () => {
    const reader = await startRuntime(loadConfig({ DATABASE_URL: `sqlite://${join(folder, 'data', 'studio.db')}` }))
    const countries = (await logRows(reader)).map((row) => row.country)
    await reader.close()
    expect(countries).toContain('United States (US)')
    expect(countries).toContain('Germany (DE)')
  })
})
