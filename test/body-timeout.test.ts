// A client that trickles its body gets a 408 after BODY_TIMEOUT_MS, whether it declared a length
// or sends chunks, and its connection is closed: tested on the real server over raw sockets.
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from './support/process'

const folder = mkdtempSync(join(tmpdir(), 'studio-body-timeout-'))
const port = await freePort()
const server = Bun.spawn([process.execPath, join(import.meta.dir, '..', 'src', 'index.ts'), 'serve'], {
  cwd: folder,
  env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite://${join(folder, 'studio.db')}`, BODY_TIMEOUT_MS: '400' },
  stdout: 'pipe',
  stderr: 'pipe',
})
await waitFor(`http://127.0.0.1:${port}/api/auth/health/`)
afterAll(() => {
  server.kill()
  rmSync(folder, { recursive: true, force: true })
})

/** Sends the head and the first part of a body, then nothing more; resolves with what the server sent until it closed. */
function trickle(head: string, firstPart: string): Promise<{ answer: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let answer = ''
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(head + firstPart))
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => (answer += chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve({ answer, closed: true }))
    // Far beyond the deadline: a server that waits for the body would be caught here.
    setTimeout(() => {
      socket.destroy()
      resolve({ answer, closed: false })
    }, 5000)
  })
}

const body = '{"email":"slow@example.com","password":"long enough password"}'

test('a declared length that never arrives → 408 and the connection closes', async () => {
  const head = `POST /api/auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`
  const { answer, closed } = await trickle(head, body.slice(0, 10))
  expect(answer).toStartWith('HTTP/1.1 408')
  expect(answer).toContain('The request body did not arrive in time')
  expect(closed).toBe(true)
})

test('a chunked body that stops mid-way → 408 and the connection closes', async () => {
  const head = 'POST /api/auth/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'
  const { answer, closed } = await trickle(head, `a\r\n${body.slice(0, 10)}\r\n`)
  expect(answer).toStartWith('HTTP/1.1 408')
  expect(closed).toBe(true)
})

test('the OAuth callback\'s form body has the same deadline', async () => {
  const form = 'state=abc&code=def&padding=' + 'x'.repeat(100)
  const head = `POST /api/auth/oauth/apple/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\n\r\n`
  const { answer, closed } = await trickle(head, form.slice(0, 10))
  expect(answer).toStartWith('HTTP/1.1 408')
  expect(closed).toBe(true)
})

test.each([
  ['an unknown route', 'POST /api/no-such-route HTTP/1.1', 'application/json', 404],
  ['a method the route does not take', 'PUT /api/auth/login HTTP/1.1', 'application/json', 405],
  ['a content type the API does not take', 'POST /api/auth/login HTTP/1.1', 'text/plain', 415],
  ['a GET with a body', 'GET /api/auth/health HTTP/1.1', 'application/json', 200],
])('%s answered before its trickled body is read: the connection closes', async (_name, requestLine, type, status) => {
  const head = `${requestLine}\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`
  const { answer, closed } = await trickle(head, body.slice(0, 10))
  expect(answer).toStartWith(`HTTP/1.1 ${status}`)
  expect(answer.toLowerCase()).toContain('connection: close')
  expect(closed).toBe(true)
})

test('a body that arrives in time is served as usual', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/api/auth/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  expect(res.status).toBe(401)
})
