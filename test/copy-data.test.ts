// `copy-data`: an installation moved from SQLite to PostgreSQL and back comes out the same, value
// for value; a target with rows is refused; a failed copy leaves nothing behind; a bad --to never
// shows its password. Real processes, real databases (a PostgreSQL schema of its own, dropped
// after), whichever database the other suites run on.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../src/db/open'
import {
  dropSchema,
  identityPositions,
  postgresCounts,
  postgresSchema,
  postgresUsageDays,
  postgresUser,
  sqliteContents,
  sqliteSchema,
  sqliteUsageDays,
} from './support/copy-data'
import { postgresReachable } from './support/database'
import { run } from './support/process'

const entry = join(import.meta.dir, '..', 'src', 'index.ts')
const folder = mkdtempSync(join(tmpdir(), 'studio-copy-'))
const sqliteUrl = (name: string) => `sqlite://${join(folder, name)}`
const studio = (databaseUrl: string, ...args: string[]) => run([process.execPath, entry, ...args], { cwd: folder, env: { DATABASE_URL: databaseUrl } })

/** Values that COPY's text format must escape, and some it must not touch. */
const AWKWARD = 'tab\there, new\nline, cr\r, back\\slash, \\N, quote\' "double", ünïcødé 🚀, comma, |pipe|'
/** A name as an account may have it: no control characters. */
const NAME = 'Ädmin "the" back\\slash \\N 🚀'

const reachable = await postgresReachable('the copy-data tests')
const schemas: string[] = []
const newSchema = async () => {
  const made = await postgresSchema()
  schemas.push(made.schema)
  return made
}
afterAll(async () => {
  for (const schema of schemas) await dropSchema(schema)
  rmSync(folder, { recursive: true, force: true })
})

/** An installation with some of everything: generated traffic, an admin, keys, sessions, ratings, threats, settings, an unblock. */
async function installation(name: string, extra: (store: Awaited<ReturnType<typeof openStore>>['store']) => Promise<void> = async () => {}) {
  const url = sqliteUrl(name)
  const steps = [
    ['populate-dashboard-data', '--days', '3', '--users', '4', '--requests', '3000'],
    ['create-superuser', '--email', 'admin@example.com', '--password', 'a long enough password', '--name', NAME],
    ['create-api-key', '--email', 'admin@example.com', '--name', 'ci'],
    ['unblock', '--email', 'someone@example.com'],
    ['unblock', '--address', '203.0.113.7'],
  ]
  for (const step of steps) {
    const result = await studio(url, ...step)
    expect({ step, code: result.code, stderr: result.code ? result.stderr : '' }).toEqual({ step, code: 0, stderr: '' })
  }
  const { store } = await openStore({ kind: 'sqlite', path: join(folder, name) })
  try {
    const now = Date.now()
    const user = (await store.accounts.insertUser(
      { email: 'oauth@example.com', passwordHash: null, name: 'O. Auth', avatarUrl: 'https://example.com/a.png', provider: 'github', role: 'user', emailVerified: true },
      now - 5000,
    ))!
    await store.accounts.linkIdentity({ provider: 'github', subject: '4242', userId: user.id, email: 'oauth@example.com' }, now - 4000)
    const session = await store.accounts.startSession({ userId: user.id, provider: 'github', ip: '198.51.100.1', userAgent: AWKWARD, country: 'DE' }, { hash: 'h1', expiresAt: now + 60_000 }, now - 3000)
    const token = (await store.accounts.findRefreshToken('h1'))!
    expect((await store.accounts.rotateRefreshToken(token, 'h1', { hash: 'h2', expiresAt: now + 90_000 }, now - 2000)).outcome).toBe('rotated')
    await store.keys.insertBelowLimit({ userId: user.id, name: AWKWARD, prefix: 'sk-abc', keyHash: 'k1', expiresAt: now + 86_400_000, scopes: ['inference', 'read'], models: ['llama3*'] }, 10, now - 1000)
    await store.telemetry.insertLogs([
      {
        requestId: 'req-1', createdAt: now - 900, method: 'POST', path: '/v1/chat/completions', status: 200, latencyMs: 123.456789,
        userId: user.id, apiKeyId: null, sessionId: session, model: 'llama3:8b', upstream: 'http://ollama:11434', completionId: 'chatcmpl-1',
        promptTokens: 11, completionTokens: 22, ttftMs: 0.1 + 0.2, cost: 1e-7, country: 'DE', ip: '198.51.100.1', userAgent: AWKWARD, errorType: null, outcome: 'ok',
      },
    ])
    await store.feedback.save({ completionId: 'chatcmpl-1', userId: user.id, rating: 4, comment: AWKWARD, now: now - 800 })
    store.threats.record({ type: 'brute_force', severity: 'high', userId: user.id, address: '203.0.113.7', detail: AWKWARD }, now - 700)
    await store.settings.ensure('copy-data test', AWKWARD)
    // A conversation's message: its JSON columns left empty (jsonb keeps JSON in its own form, so text would not come back byte for byte).
    const conversation = await store.conversations.create({ userId: user.id, title: AWKWARD, model: 'llama3' }, now - 600)
    await store.conversations.append(conversation.id, [{
      role: 'user', content: AWKWARD, parts: null, toolCalls: null, toolCallId: null, reasoning: AWKWARD, promptTokens: 3,
      completionTokens: null, completionId: null, finishReason: null, state: 'cancelled',
    }], now - 500)
    // A stored Responses API response: its JSON is text in both dialects, so it comes back byte for byte.
    await store.responses.save({
      id: 'resp_1', userId: user.id, previousResponseId: 'resp_0', response: { object: 'response', output: [{ type: 'message', text: AWKWARD }] },
      inputItems: [{ id: 'msg_1', type: 'message', content: [{ type: 'input_text', text: AWKWARD }] }], createdAt: now - 400,
    })
    // An audit entry (the command-line steps above left some too): its before and after are JSON text in both dialects.
    await store.audit.append([{
      at: now - 300, action: 'user.role_changed', actorUserId: user.id, actorEmail: 'oauth@example.com', targetType: 'user', targetId: user.id,
      ip: '198.51.100.1', requestId: AWKWARD, before: { role: 'user', note: AWKWARD }, after: { role: 'admin' },
    }])
    await extra(store)
  } finally {
    await store.close()
  }
  return url
}

describe.skipIf(!reachable)('copy-data', () => {
  let source: string
  let sourcePath: string
  let target: { schema: string; url: string }

  beforeAll(async () => {
    source = await installation('source.db')
    sourcePath = join(folder, 'source.db')
    target = await newSchema()
  })

  test('copies every table of SQLite into an empty PostgreSQL database, printing each count in both', async () => {
    const { code, stdout, stderr } = await studio(source, 'copy-data', '--to', target.url)
    expect({ code, stderr: code ? stderr : '' }).toEqual({ code: 0, stderr: '' })
    const contents = sqliteContents(sourcePath)
    const counts = await postgresCounts(target.schema)
    // SQLite's search index (a virtual table and its shadow tables, 0013) is its own, filled by triggers.
    const tables = Object.keys(contents).filter((table) => table !== 'sqlite_sequence' && !table.startsWith('conversation_messages_search'))
    expect(Object.keys(counts).sort()).toEqual(tables)
    for (const table of tables) {
      expect(counts[table]).toBe(contents[table]!.length)
      const n = contents[table]!.length.toLocaleString('en')
      expect(stdout).toMatch(new RegExp(`^${table} +${n} +${n}$`, 'm'))
      // Not on a terminal: a plain line per table instead of a bar.
      expect(stderr).toContain(`copied ${table}: ${n} rows`)
    }
    expect(contents.request_logs!.length).toBeGreaterThan(3000)
    for (const table of ['users', 'identities', 'sessions', 'refresh_tokens', 'api_keys', 'feedback', 'threats', 'rollup_threats', 'settings', 'sign_in_unblocks', 'model_usage_daily', 'conversations', 'conversation_messages', 'responses', 'audit_log'])
      expect(contents[table]!.length).toBeGreaterThan(0)
  })

  test('PostgreSQL holds the values in its own types: times, booleans, dates', async () => {
    const { store } = await openStore({ kind: 'sqlite', path: sourcePath })
    const user = (await store.accounts.findUserByEmail('admin@example.com'))!
    await store.close()
    expect(await postgresUser(target.schema, 'admin@example.com')).toEqual({ name: NAME, isActive: true, emailVerified: true, createdAt: user.createdAt })
    expect(await postgresUsageDays(target.schema)).toEqual(sqliteUsageDays(sourcePath))
  })

  test('ids made on PostgreSQL after the copy follow the copied ones', async () => {
    const positions = await identityPositions(target.schema)
    expect(positions.map((position) => position.table)).toEqual(['audit_log', 'conversation_messages', 'feedback', 'request_logs', 'sign_in_unblocks', 'threats'])
    for (const position of positions) {
      expect(position.largest).toBeGreaterThan(0)
      expect(position.next).toBe(position.largest + 1)
    }
  })

  test('back from PostgreSQL into a new SQLite file: every row of every table is byte for byte the same', async () => {
    const back = sqliteUrl('back.db')
    const { code, stderr } = await studio(target.url, 'copy-data', '--to', back)
    expect({ code, stderr: code ? stderr : '' }).toEqual({ code: 0, stderr: '' })
    const { sqlite_sequence: counters, ...copied } = sqliteContents(join(folder, 'back.db'))
    const { sqlite_sequence: sourceCounters, ...original } = sqliteContents(sourcePath)
    expect(copied).toEqual(original)
    // AUTOINCREMENT (sign_in_unblocks, conversation_messages, audit_log) goes on past every id PostgreSQL handed out, the one the
    // test above took with nextval included: an id once given is never given again.
    // audit_log: create-api-key's entry, unblock's two, the fixture's one.
    expect(sourceCounters).toEqual([["'audit_log'", '4'], ["'sign_in_unblocks'", '2'], ["'conversation_messages'", '1']])
    expect(counters).toEqual([["'audit_log'", '5'], ["'sign_in_unblocks'", '3'], ["'conversation_messages'", '2']])
    expect(sqliteSchema(join(folder, 'back.db'))).toEqual(sqliteSchema(sourcePath))
  })

  test('SQLite into SQLite works the same way', async () => {
    const { code } = await studio(source, 'copy-data', '--to', sqliteUrl('again.db'))
    expect(code).toBe(0)
    expect(sqliteContents(join(folder, 'again.db'))).toEqual(sqliteContents(sourcePath))
  })

  test('a target with rows is refused (exit 1) and left as it was', async () => {
    const before = await postgresCounts(target.schema)
    const { code, stdout, stderr } = await studio(source, 'copy-data', '--to', target.url)
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toContain('the target database is not empty (rows in ')
    expect(stderr).toContain('users')
    expect(await postgresCounts(target.schema)).toEqual(before)

    const sqliteTarget = await studio(target.url, 'copy-data', '--to', sqliteUrl('again.db'))
    expect(sqliteTarget.code).toBe(1)
    expect(sqliteTarget.stderr).toContain('the target database is not empty')
  })

  test('a copy that fails part way writes nothing: the target stays empty', async () => {
    // PostgreSQL's text cannot hold a NUL character, which SQLite's can: the users table fails,
    // after request_logs and the rollups went in.
    const broken = await installation('broken.db', async (store) => {
      await store.accounts.insertUser({ email: 'nul@example.com', passwordHash: null, name: 'nul\u0000here', avatarUrl: null, provider: 'email', role: 'user', emailVerified: false }, Date.now())
    })
    const empty = await newSchema()
    const { code, stderr } = await studio(broken, 'copy-data', '--to', empty.url)
    expect(code).toBe(1)
    expect(stderr).toContain('ai-studio: copying users failed, so nothing was written: ')
    expect(stderr).not.toContain('copied users')
    const counts = await postgresCounts(empty.schema)
    expect(Object.values(counts).reduce((sum, n) => sum + n, 0)).toBe(counts.schema_migrations!)
    expect(counts.request_logs).toBe(0)
  }, 20_000)

  test('--to is required and must be a database URL (exit 2); an unreachable one exits 1; neither shows the password', async () => {
    const secret = 'pa55word-not-to-show'
    const missing = await studio(source, 'copy-data')
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('--to <DATABASE_URL>')

    for (const url of [`postgres://user:${secret}@`, `mysql://user:${secret}@db.example.com/studio`, `https://user:${secret}@example.com/`]) {
      const bad = await studio(source, 'copy-data', '--to', url)
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain('--to: expected sqlite://')
      expect(bad.stdout + bad.stderr).not.toContain(secret)
    }

    const unreachable = await studio(source, 'copy-data', '--to', `postgres://user:${secret}@127.0.0.1:1/studio`)
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toContain('--to: expected a PostgreSQL server this process can reach')
    expect(unreachable.stdout + unreachable.stderr).not.toContain(secret)
  })

  test('the database being copied cannot be its own target (exit 2)', async () => {
    const itself = await studio(source, 'copy-data', '--to', source)
    expect(itself.code).toBe(2)
    expect(itself.stderr).toContain('--to names the database being copied')
  })

  test('the password of a PostgreSQL URL is not printed after a copy either', async () => {
    const empty = await newSchema()
    const url = new URL(empty.url)
    url.password = 'any-password-trust-auth-ignores'
    const { code, stdout, stderr } = await studio(sqliteUrl('back.db'), 'copy-data', '--to', url.toString())
    expect(code).toBe(0)
    expect(stdout).toContain(`to postgres://${url.username}:***@${url.host}`)
    expect(stdout + stderr).not.toContain('any-password-trust-auth-ignores')
  })
})
