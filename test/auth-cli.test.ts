// The accounts commands as real processes against a file database, and their output used
// over HTTP: the printed API key is accepted as a Bearer token, the admin can sign in.
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setActiveOnly } from './support/accounts'
import { testApp } from './support/app'
import { run } from './support/process'
import { PROPAGATION_MS, within } from './support/within'

const entry = join(import.meta.dir, '..', 'src', 'index.ts')
const dir = mkdtempSync(join(tmpdir(), 'studio-auth-cli-'))
const env = { DATABASE_URL: `sqlite://${join(dir, 'studio.db')}` }
const studio = (...args: string[]) => run([process.execPath, entry, ...args], { cwd: dir, env })

// The server side, over the same database file.
const server = await testApp(env)
afterAll(server.close)
const signIn = (email: string, password: string) =>
  server.call('/api/auth/login/', { method: 'POST', json: { email, password } })

describe('create-superuser', () => {
  test('creates an admin who can sign in', async () => {
    const { code, stdout } = await studio('create-superuser', '--email', ' Root@Example.com', '--password', 'root password', '--name', 'Root')
    expect(code).toBe(0)
    expect(stdout).toContain('created admin root@example.com')
    const res = await signIn('root@example.com', 'root password')
    expect(res.status).toBe(200)
    expect((await res.json()).user).toMatchObject({ role: 'admin', name: 'Root', provider: 'email' })
  })

  test('promotes an existing account, re-activates it and sets the password', async () => {
    const registered = await server.call('/api/auth/register/', { method: 'POST', json: { email: 'plain@example.com', password: 'first password' } })
    const { user } = await registered.json()
    await setActiveOnly(server.rt, user.id, false)
    const { code, stdout } = await studio('create-superuser', '--email', 'plain@example.com', '--password', 'second password')
    expect(code).toBe(0)
    expect(stdout).toContain('plain@example.com is now an active admin')
    expect((await signIn('plain@example.com', 'first password')).status).toBe(401)
    const res = await signIn('plain@example.com', 'second password')
    expect(res.status).toBe(200)
    expect((await res.json()).user).toMatchObject({ id: user.id, role: 'admin' })
  })

  test("promoting a self-registered account revokes the squatter's sessions and keys, with a warning", async () => {
    const registered = await server.call('/api/auth/register/', { method: 'POST', json: { email: 'squat@example.com', password: 'squatter pass' } })
    const { accessToken, refreshToken } = await registered.json()
    const made = await server.call('/api/keys/', { method: 'POST', token: accessToken, json: { name: 'kept' } })
    const { key } = await made.json()
    expect((await server.call('/api/auth/me/', { token: key })).status).toBe(200)

    const { code, stdout, stderr } = await studio('create-superuser', '--email', 'squat@example.com', '--password', 'owner password')
    expect(code).toBe(0)
    expect(stdout).toContain('its earlier sessions and API keys are revoked')
    expect(stderr).toContain('warning: squat@example.com was registered through the API')
    // The running server learns of the command's change when it next reads the account: within
    // a second (it remembers who holds a token that long; the command has no Redis to tell it).
    const answered = performance.now()
    for (const token of [accessToken, key])
      await within(PROPAGATION_MS, answered, 'the revocation', async () => (await server.call('/api/auth/me/', { token })).status === 401)
    expect((await server.call('/api/auth/refresh/', { method: 'POST', json: { refreshToken } })).status).toBe(401)
    // The owner signs in afresh, as an admin; promoting an account made by this command warns of nothing.
    expect((await signIn('squat@example.com', 'owner password')).status).toBe(200)
    const again = await studio('create-superuser', '--email', 'squat@example.com', '--password', 'owner password')
    expect(again.stderr).not.toContain('warning')
  })

  test('missing flags without a terminal → exit 2 with the usage line', async () => {
    const { code, stderr } = await studio('create-superuser', '--email', 'x@example.com')
    expect(code).toBe(2)
    expect(stderr).toContain('--email and --password are required')
    expect(stderr).toContain('usage: ai-studio create-superuser --email E --password P [--name N]')
  })

  // `script` gives the command a pseudo-terminal, so it asks instead of failing.
  test.skipIf(!Bun.which('script'))('on a terminal it asks for what is missing, the password without echo', async () => {
    const command = `${process.execPath} ${entry} create-superuser --name Asked`
    const proc = Bun.spawn(['script', '-qec', command, '/dev/null'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
      stdin: 'pipe',
      stdout: 'pipe',
    })
    let output = ''
    const reading = (async () => {
      for await (const chunk of proc.stdout) output += new TextDecoder().decode(chunk)
    })()
    // Answer each question once it is on screen, as a person would.
    const dialogue: [string, string][] = [
      ['Email:', 'asked@example.com'],
      ['Password:', 'typed secret'],
      ['(again):', 'typed secret'],
    ]
    for (const [prompt, answer] of dialogue) {
      while (!output.includes(prompt)) await Bun.sleep(20)
      proc.stdin.write(`${answer}\n`)
      await proc.stdin.flush()
    }
    await proc.exited
    proc.stdin.end()
    await reading
    expect(output).toContain('Email:')
    expect(output).toContain('Password (again):')
    expect(output).toContain('created admin asked@example.com')
    expect(output).not.toContain('typed secret')
    expect((await signIn('asked@example.com', 'typed secret')).status).toBe(200)
  }, 20_000)

  test('a weak password or a bad email → exit 2 naming the flag', async () => {
    const weak = await studio('create-superuser', '--email', 'w@example.com', '--password', 'short')
    expect(weak.code).toBe(2)
    expect(weak.stderr).toContain('--password must be at least 8 characters')
    expect(weak.stderr).not.toContain('short')
    const bad = await studio('create-superuser', '--email', 'nope', '--password', 'long enough')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--email must be an email address')
  })
})

describe('create-api-key', () => {
  test('prints only the key on stdout; it works as a Bearer token until revoked', async () => {
    await studio('create-superuser', '--email', 'keys@example.com', '--password', 'long enough')
    const { code, stdout, stderr } = await studio('create-api-key', '--email', 'KEYS@example.com', '--name', 'ci', '--scopes', 'inference,read,manage')
    expect(code).toBe(0)
    const key = stdout.trim()
    expect(key).toMatch(/^sk-studio-[\w-]+$/)
    expect(stderr).toContain('"ci"')
    expect(stderr).not.toContain(key)
    const me = await server.call('/api/auth/me/', { token: key })
    expect(me.status).toBe(200)
    expect((await me.json()).email).toBe('keys@example.com')
    const listed = await (await server.call('/api/keys/', { token: key })).json()
    const entry = listed.data.find((item: { name: string }) => item.name === 'ci')
    expect(entry.prefix).toBe(key.slice(0, 14))
    expect((await server.call(`/api/keys/${entry.id}/`, { method: 'DELETE', token: key })).status).toBe(204)
    expect((await server.call('/api/auth/me/', { token: key })).status).toBe(401)
  })

  test('an unknown email → exit 1 with a clear line', async () => {
    const { code, stdout, stderr } = await studio('create-api-key', '--email', 'ghost@example.com')
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr.trim()).toBe('no user has the email ghost@example.com')
  })

  test('a deactivated user gets no key', async () => {
    await studio('create-superuser', '--email', 'off@example.com', '--password', 'long enough')
    await setActiveOnly(server.rt, (await server.rt.store.accounts.findUserByEmail('off@example.com'))!.id, false)
    const { code, stderr } = await studio('create-api-key', '--email', 'off@example.com')
    expect(code).toBe(1)
    expect(stderr).toContain('deactivated')
  })

  test('no --email → exit 2 with the usage line', async () => {
    const { code, stderr } = await studio('create-api-key')
    expect(code).toBe(2)
    expect(stderr).toContain('usage: ai-studio create-api-key --email E [--name N]')
  })
})

describe('unblock', () => {
  const blocked = async (call: typeof server.call, email: string, headers: Record<string, string> = {}) => {
    for (let i = 0; i < 5; i++) await call('/api/auth/login/', { method: 'POST', headers, json: { email, password: 'wrong guess' } })
    return call('/api/auth/login/', { method: 'POST', headers, json: { email, password: 'long enough' } })
  }
  /** The server polls for unblock requests once a second. */
  const eventually = async (attempt: () => Promise<Response>) => {
    for (const deadline = Date.now() + 5000; ; await Bun.sleep(100)) {
      const res = await attempt()
      if (res.status !== 429 || Date.now() > deadline) return res
    }
  }

  test('--email lifts the block on that account; another blocked account stays blocked', async () => {
    await studio('create-superuser', '--email', 'locked@example.com', '--password', 'long enough')
    await studio('create-superuser', '--email', 'still@example.com', '--password', 'long enough')
    expect((await blocked(server.call, 'locked@example.com')).status).toBe(429)
    expect((await blocked(server.call, 'still@example.com')).status).toBe(429)
    const { code, stdout } = await studio('unblock', '--email', 'Locked@Example.com')
    expect(code).toBe(0)
    expect(stdout).toContain('account locked@example.com')
    const res = await eventually(() => signIn('locked@example.com', 'long enough'))
    expect(res.status).toBe(200)
    expect((await signIn('still@example.com', 'long enough')).status).toBe(429)
  })

  test('--email also lifts it for the owner at the address the failures came from', async () => {
    const proxied = await testApp({ ...env, TRUST_PROXY: 'true' })
    try {
      await studio('create-superuser', '--email', 'victim@example.com', '--password', 'long enough')
      const from = { 'x-forwarded-for': '203.0.113.20' }
      expect((await blocked(proxied.call, 'victim@example.com', from)).status).toBe(429)
      expect((await studio('unblock', '--email', 'victim@example.com')).code).toBe(0)
      const again = await eventually(() =>
        proxied.call('/api/auth/login/', { method: 'POST', headers: from, json: { email: 'victim@example.com', password: 'long enough' } }),
      )
      expect(again.status).toBe(200)
    } finally {
      await proxied.close()
    }
  })

  test('--address lifts the block on a client address', async () => {
    const proxied = await testApp({ ...env, TRUST_PROXY: 'true' })
    try {
      await studio('create-superuser', '--email', 'office@example.com', '--password', 'long enough')
      const from = { 'x-forwarded-for': '203.0.113.9' }
      const res = await blocked(proxied.call, 'office@example.com', from)
      expect(res.status).toBe(429)
      expect(res.headers.get('retry-after')).toBe('900')
      expect((await studio('unblock', '--address', '203.0.113.9')).code).toBe(0)
      const again = await eventually(() =>
        proxied.call('/api/auth/login/', { method: 'POST', headers: from, json: { email: 'office@example.com', password: 'long enough' } }),
      )
      expect(again.status).toBe(200)
    } finally {
      await proxied.close()
    }
  })

  test('neither flag, an address that is not one or an email that is not one → exit 2', async () => {
    expect((await studio('unblock')).code).toBe(2)
    for (const address of ['drop table', 'b', '1.2.3']) {
      const bad = await studio('unblock', '--address', address)
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain('--address must be an IPv4 or IPv6 address')
    }
    const bad = await studio('unblock', '--email', 'a')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--email must be an email address')
    expect((await studio('unblock', '--address', '[2001:db8::1]')).code).toBe(0)
  })

  test('without the server\'s database (run in the wrong folder) → exit 1, and no database is made', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'studio-unblock-'))
    const { code, stderr } = await run([process.execPath, entry, 'unblock', '--email', 'a@example.com'], { cwd: elsewhere })
    expect(code).toBe(1)
    expect(stderr).toContain('no database at')
    expect(existsSync(join(elsewhere, 'data'))).toBe(false)
    const memory = await run([process.execPath, entry, 'unblock', '--email', 'a@example.com'], { cwd: elsewhere, env: { DATABASE_URL: 'sqlite://:memory:' } })
    expect(memory.code).toBe(1)
    expect(memory.stderr).toContain('in-memory database')
  })
})

test('--help lists both commands', async () => {
  const { stdout } = await studio('--help')
  expect(stdout).toContain('create-superuser --email E --password P [--name N]')
  expect(stdout).toContain('create-api-key --email E [--name N]')
})
