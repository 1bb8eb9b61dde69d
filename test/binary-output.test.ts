// The binary must print exactly what the source prints: nothing but its own lines (start-up,
// shutdown). Elysia's analysis once failed on the minified source of a hook and printed a
// "[Sucrose] warning … please report" and a dump of code on the first authenticated request
// (see test/binary-sucrose.test.ts for the cause). So the same session (sign-in, an API-key
// request, a rate-limited request, SIGTERM) runs against the binary and against the source.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary } from './support/binary'
import { freePort, waitFor } from './support/process'

const folder = mkdtempSync(join(tmpdir(), 'studio-binary-output-'))
const binary = join(folder, 'ai-studio')
const source = [process.execPath, join(import.meta.dir, '..', 'src', 'index.ts')]

beforeAll(async () => copyFileSync(await buildBinary(), binary), 120_000)
afterAll(() => rmSync(folder, { recursive: true, force: true }))

/** What a server printed over one session, with its port written as PORT, and the statuses it answered. */
async function session(command: string[]) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = Bun.spawn(command, {
    cwd: mkdtempSync(join(folder, 'run-')),
    env: { PATH: '/usr/bin:/bin', PORT: String(port), HOST: '127.0.0.1', OLLAMA_BASE_URL: 'http://127.0.0.1:9', RATE_LIMIT_DASHBOARD: '1' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const statuses: Record<string, number> = {}
  try {
    await waitFor(`${base}/api/auth/health/`, 20_000)
    const call = async (label: string, path: string, init: { json?: unknown; token?: string } = {}) => {
      const headers: Record<string, string> = {}
      if (init.json !== undefined) headers['content-type'] = 'application/json'
      if (init.token) headers.authorization = `Bearer ${init.token}`
      const res = await fetch(`${base}${path}`, {
        method: init.json === undefined ? 'GET' : 'POST',
        headers,
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      })
      statuses[label] = res.status
      return res.json()
    }
    const account = { email: 'quiet@example.com', password: 'a long enough password' }
    await call('register', '/api/auth/register/', { json: account })
    const { accessToken } = await call('login', '/api/auth/login/', { json: account })
    const { key } = await call('create key', '/api/keys/', { json: { name: 'output test' }, token: accessToken })
    await call('me with the key', '/api/auth/me/', { token: key })
    await call('dashboard', '/api/dashboard/', { token: key })
    await call('dashboard over its limit', '/api/dashboard/', { token: key })
  } finally {
    server.kill('SIGTERM')
  }
  const [stdout, stderr, code] = await Promise.all([new Response(server.stdout).text(), new Response(server.stderr).text(), server.exited])
  const lines = stdout.replaceAll(`127.0.0.1:${port}`, '127.0.0.1:PORT').split('\n').filter(Boolean)
  return { lines, stderr, code, statuses }
}

const expectedStatuses = {
  register: 201,
  login: 200,
  'create key': 201,
  'me with the key': 200,
  dashboard: 200,
  'dashboard over its limit': 429,
}

/** The lines a server prints on its own: the start-up line, and the shutdown's. */
const ownLines = [
  /^AI Studio backend listening on http:\/\/127\.0\.0\.1:PORT \(admin UI at \/admin, API docs at \/swagger\)$/,
  /^SIGTERM: /,
  /^stopped cleanly$/,
]

test('through sign-in, an API-key request and a rate limit, the binary prints only what the source prints', { timeout: 60_000 }, async () => {
  const fromSource = await session(source)
  const compiled = await session([binary])
  expect(fromSource.statuses).toEqual(expectedStatuses)
  expect(compiled.statuses).toEqual(expectedStatuses)
  expect(compiled.lines.filter((line) => !ownLines.some((own) => own.test(line))).map((line) => line.slice(0, 200))).toEqual([])
  expect(compiled.lines[0]).toMatch(ownLines[0]!)
  expect(compiled.lines).toEqual(fromSource.lines)
  expect(compiled.stderr).toBe('')
  expect(fromSource.stderr).toBe('')
  expect(compiled.code).toBe(0)
})
