import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pkg from '../package.json'
import { freePort, run } from './support/process'

const entry = join(import.meta.dir, '..', 'src', 'index.ts')
const studio = (args: string[], env: Record<string, string> = {}) =>
  run([process.execPath, entry, ...args], { cwd: mkdtempSync(join(tmpdir(), 'studio-cli-')), env })

describe('command line', () => {
  test('--help lists the commands', async () => {
    const { code, stdout } = await studio(['--help'])
    expect(code).toBe(0)
    for (const command of ['serve', 'migrate']) expect(stdout).toContain(command)
  })

  test('processes that start together on a new database apply each migration once, and all succeed', async () => {
    for (let round = 0; round < 4; round++) {
      const cwd = mkdtempSync(join(tmpdir(), 'studio-cli-'))
      const both = await Promise.all([0, 1].map(() => run([process.execPath, entry, 'migrate'], { cwd })))
      expect(both.map((result) => result.code)).toEqual([0, 0])
    }
  })

  test('an unknown command exits 2 with a usage line', async () => {
    const { code, stderr } = await studio(['frobnicate'])
    expect(code).toBe(2)
    expect(stderr).toContain('unknown command "frobnicate"')
    expect(stderr).toContain('usage:')
  })

  test('an unknown flag exits 2 with a usage line', async () => {
    const { code, stderr } = await studio(['migrate', '--nope'])
    expect(code).toBe(2)
    expect(stderr).toContain('--nope')
    expect(stderr).toContain('usage: ai-studio migrate')
  })

  test('--version and -v print the version from package.json', async () => {
    for (const flag of ['--version', '-v']) {
      const { code, stdout, stderr } = await studio([flag])
      expect({ flag, code, stdout, stderr }).toEqual({ flag, code: 0, stdout: `ai-studio ${pkg.version}\n`, stderr: '' })
    }
  })

  test('a flag named after a setting points to its environment variable', async () => {
    const cases = [
      { args: ['serve', '--port', '9000'], hint: '--port: set PORT=9000 instead' },
      { args: ['--port=9000'], hint: '--port: set PORT=9000 instead' },
      { args: ['serve', '--host', '127.0.0.1'], hint: '--host: set HOST=127.0.0.1 instead' },
      { args: ['migrate', '--database-url', 'sqlite://./other.db'], hint: '--database-url: set DATABASE_URL=sqlite://./other.db instead' },
      { args: ['serve', '--secret-key'], hint: '--secret-key: set SECRET_KEY=<value> instead' },
    ]
    for (const { args, hint } of cases) {
      const { code, stderr } = await studio(args)
      expect({ args, code }).toEqual({ args, code: 2 })
      expect(stderr).toContain(`ai-studio: ${hint}; configuration comes from the environment (and .env)\n`)
      expect(stderr).toContain(`usage: ai-studio ${args[0] === 'migrate' ? 'migrate' : 'serve'}`)
    }
    // A flag that names no setting gets no made-up variable.
    const unknown = await studio(['serve', '--nope', '1'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("Unknown option '--nope'")
    expect(unknown.stderr).not.toContain('set NOPE')
  })

  test('the start-up line names the admin UI and the API docs', async () => {
    const port = await freePort()
    const server = Bun.spawn([process.execPath, entry, 'serve'], {
      cwd: mkdtempSync(join(tmpdir(), 'studio-cli-')),
      env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: 'sqlite://:memory:' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      const reader = server.stdout.getReader()
      let printed = ''
      while (!printed.includes('\n')) {
        const { value, done } = await reader.read()
        if (done) break
        printed += new TextDecoder().decode(value)
      }
      expect(printed.split('\n')[0]).toBe(`AI Studio backend listening on http://127.0.0.1:${port} (admin UI at /admin, API docs at /swagger)`)
    } finally {
      server.kill('SIGKILL')
    }
  })

  test('a malformed setting stops start-up with one line naming it', async () => {
    const { code, stderr } = await studio(['serve'], { PORT: 'abc' })
    expect(code).toBe(1)
    expect(stderr.trim()).toBe('configuration error: PORT: expected an integer from 0 to 65535, got "abc"')
  })

  test('an address the machine cannot listen on stops start-up naming HOST and PORT', async () => {
    const { code, stderr } = await studio(['serve'], { HOST: '999.1.1.1', DATABASE_URL: 'sqlite://:memory:' })
    expect(code).toBe(1)
    expect(stderr.trim()).toStartWith('configuration error: HOST and PORT: expected an address this machine can listen on')
    expect(stderr).toContain('"999.1.1.1:8000"')
  })

  test('a bad DATABASE_URL stops start-up', async () => {
    const { code, stderr } = await studio([], { DATABASE_URL: 'foo://x' })
    expect(code).toBe(1)
    expect(stderr).toContain('DATABASE_URL: expected sqlite://')
  })

  test('production without a strong SECRET_KEY refuses to start', async () => {
    const { code, stderr } = await studio(['serve'], { NODE_ENV: 'production', SECRET_KEY: 'short' })
    expect(code).toBe(1)
    expect(stderr).toContain('SECRET_KEY')
    expect(stderr).not.toContain('short')
  })

  test('migrate creates the default database and is idempotent', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'studio-cli-'))
    const first = await run([process.execPath, entry, 'migrate'], { cwd })
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('applied: 0001_init')
    expect(await Bun.file(join(cwd, 'data', 'studio.db')).exists()).toBe(true)
    const second = await run([process.execPath, entry, 'migrate'], { cwd })
    expect(second.stdout).toContain('up to date')
  })
})
