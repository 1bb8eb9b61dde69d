// populate-dashboard-data: mock traffic written through the real stores shows on the
// dashboard in exactly the shape of docs/dashboard-api.md, and --clear takes out only what it made.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiKey } from '../src/keys/service'
import { THREAT_TYPES } from '../src/threats/store'
import { testApp } from './support/app'
import { onPostgres, testDatabaseUrl } from './support/database'
import { settle } from './support/log'
import { countRows, distinctValues, rollupsDisagreeingWithTheLog, someGeneratedUserId, sumColumn } from './support/tables'
import { run } from './support/process'
import { seedUser } from './support/users'

const folder = mkdtempSync(join(tmpdir(), 'studio-populate-'))
/** A database the command and the app share: an SQLite file, or a PostgreSQL schema. */
const databaseUrl = async (file: string) => (onPostgres ? await testDatabaseUrl() : `sqlite://${join(folder, file)}`)
const env = { DATABASE_URL: await databaseUrl('studio.db'), SECRET_KEY: 'populate-test-secret-0123456789abcdef' }
const studio = (...args: string[]) =>
  run([process.execPath, join(import.meta.dir, '..', 'src', 'index.ts'), 'populate-dashboard-data', ...args], { cwd: folder, env })
afterAll(() => rmSync(folder, { recursive: true, force: true }))

/** The dashboard example of the seed system this project succeeds (its API.md), verbatim. */
const apiExample = {
  range: '7d',
  generatedAt: '2025-07-20T22:30:00Z',
  requests: [{ timestamp: '2025-07-14T00:00:00Z', success: 1450, error: 23 }],
  errorsBreakdown: [
    { label: '400', value: 120 },
    { label: '401', value: 45 },
    { label: '500', value: 32 },
  ],
  topModels: [
    { name: 'llama3.2', requests: 240000 },
    { name: 'gpt-4o-mini', requests: 180000 },
  ],
  costs: [{ timestamp: '2025-07-14T00:00:00Z', cost: 245.67 }],
  topCountries: [
    { name: 'United States (US)', requests: 4389 },
    { name: 'Indonesia (ID)', requests: 2948 },
  ],
  latency: [{ timestamp: '2025-07-14T00:00:00Z', latency: 2.45 }],
  summary: {
    totalRequests: 12450,
    successfulRequests: 11967,
    avgLatencyMs: 2450.5,
    totalCost: 1234.56,
    totalTokens: 2450000,
    avgTokensPerRequest: 196.77,
    avgCostPerRequest: 0.099,
  },
  users: { activeUsers: 125, totalSessions: 450, avgSessionCost: 2.45, avgSessionRequests: 12.5 },
  feedback: { totalFeedback: 234, avgRating: 4.2, ratingDistribution: { '5': 120, '4': 80, '3': 25, '2': 7, '1': 2 } },
  threats: {
    totalThreats: 45,
    unresolvedThreats: 12,
    criticalThreats: 2,
    highThreats: 8,
    topThreatTypes: [
      { type: 'rate_limit', count: 20 },
      { type: 'suspicious_content', count: 15 },
    ],
  },
}

/** The key this gateway adds beside the example's: `summary.cache` (docs/dashboard-api.md). */
const addedKeys = { summary: { ...apiExample.summary, cache: { hits: 3, hitRate: 0.25, costSaved: 0.01 } } }

/** Keys and value types, an array by its first element (so every array must have one). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : 'an empty array'
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]))
  return typeof value
}


describe('populate-dashboard-data', () => {
  test('bad flags exit 2 naming them', async () => {
    for (const args of [['--requests', 'lots'], ['--days', '0'], ['--users', '-3'], ['--clear', '--days', '3']]) {
      const { code, stderr } = await studio(...args)
      expect(code).toBe(2)
      expect(stderr).toContain(args[0]!)
    }
  })

  test.skipIf(!Bun.which('script'))('draws a progress bar on a terminal (stderr), none when piped', async () => {
    const command = `${process.execPath} ${join(import.meta.dir, '..', 'src', 'index.ts')} populate-dashboard-data --days 1 --users 1 --requests 30000`
    const options = { cwd: folder, env: { ...env, DATABASE_URL: await databaseUrl('tty.db') } }
    const terminal = await run(['script', '-qec', command, '/dev/null'], options)
    expect(terminal.code).toBe(0)
    expect(terminal.stdout).toMatch(/\r\[#+-*\] \d+% [\d,]+\/30,000 requests/)
    expect(terminal.stdout).toContain('100% 30,000/30,000 requests')
    const piped = await run(command.split(' '), options)
    expect(piped.code).toBe(0)
    expect(piped.stderr).toBe('')
  }, 30_000) // two runs of 30,000 generated requests, on PostgreSQL too, on a shared machine

  test(
    'generates realistic traffic that the dashboard shows, key for key as in docs/dashboard-api.md; --clear removes only it',
    async () => {
      const made = await studio('--days', '5', '--users', '3', '--requests', '6000')
      expect(made.code).toBe(0)
      expect(made.stdout).toContain('generated 6000 requests over 5 days for 3 users')

      const { rt, call, close } = await testApp(env)
      let kinds: string[] = []
      try {
        const admin = await seedUser(rt, { role: 'admin' })
        expect(await countRows(rt, 'request_logs', 'generated')).toBe(6000)
        const res = await call('/api/dashboard/?range=7d', { token: admin.accessToken })
        const body = await res.json()

        // Every key of the example, with the same nesting and value types, and no other key but those documented as added.
        expect(shape(body)).toEqual(shape({ ...apiExample, ...addedKeys }))
        expect(Object.keys(body.feedback.ratingDistribution).sort()).toEqual(['1', '2', '3', '4', '5'])

        // The figures add up to what was generated.
        expect(body.summary.totalRequests).toBe(6000)
        expect(body.requests.reduce((sum: number, p: { success: number; error: number }) => sum + p.success + p.error, 0)).toBe(6000)
        expect(body.summary.successfulRequests).toBe(await countRows(rt, 'request_logs', "outcome = 'ok'"))
        const tokens = await sumColumn(rt, 'request_logs', 'total_tokens')
        expect(body.summary.totalTokens).toBe(tokens)
        expect(body.summary.totalCost).toBeGreaterThan(0)
        expect(body.users.activeUsers).toBe(3)
        expect(body.users.totalSessions).toBeGreaterThan(0)
        expect(body.feedback.totalFeedback).toBe(await countRows(rt, 'feedback'))
        expect(body.threats.totalThreats).toBe(await countRows(rt, 'threats'))
        // Generated threats are of the kinds the protection feature raises, so the admin filter finds them.
        kinds = await distinctValues(rt, 'threats', 'type')
        for (const kind of kinds) expect(THREAT_TYPES as readonly string[]).toContain(kind)
        for (const kind of kinds) {
          const listed = await call(`/api/admin/threats/?type=${kind}&limit=1`, { token: admin.accessToken })
          expect((await listed.json()).total).toBeGreaterThan(0)
        }
        expect(body.topModels.length).toBeGreaterThanOrEqual(5)
        expect(body.topCountries.length).toBeGreaterThanOrEqual(5)
        for (const country of body.topCountries) expect(country.name).toMatch(/^.+ \([A-Z]{2}\)$/)
        expect(body.errorsBreakdown.map((e: { label: string }) => e.label)).toContain('401')
        // Sessions accumulated through the same writer as real traffic.
        const sessions = await sumColumn(rt, 'sessions', 'request_count')
        expect(sessions).toBe(await countRows(rt, 'request_logs', 'session_id IS NOT NULL'))

        expect(await rollupsDisagreeingWithTheLog(rt)).toEqual([])

        // Real traffic next to the generated: it must survive --clear, with its rollups.
        await call('/api/auth/health/')
        await call('/api/dashboard/', { token: admin.accessToken })
        // A generated user put to real use (an API key, a request with it) is kept, with its key.
        const demo = await someGeneratedUserId(rt)
        const { key } = await createApiKey(rt, { userId: demo, role: 'user', email: '' }, { name: 'real use', scopes: ['inference', 'read', 'manage'] })
        expect((await call('/api/keys/', { token: key })).status).toBe(200)
        await settle(rt)
        const real = await countRows(rt, 'request_logs', 'NOT generated')
        expect(real).toBe(4 + kinds.length) // three above, the dashboard read before them, the threat lists

        const cleared = await studio('--clear')
        expect(cleared.code).toBe(0)
        expect(cleared.stdout).toContain('removed generated data: 6000 requests')
        expect(cleared.stdout).toContain('2 users; kept 1 generated users that have real activity')
        const after = await (await call('/api/dashboard/?range=7d', { token: admin.accessToken })).json()
        expect(after.summary.totalRequests).toBe(real)
        expect(after.summary.totalTokens).toBe(0)
        expect(after.users.activeUsers).toBe(2)
        expect(after.feedback.totalFeedback).toBe(0)
        expect(after.threats.totalThreats).toBe(0)
        expect(after.topModels).toEqual([])
        expect(after.errorsBreakdown).toEqual([])
        for (const table of ['feedback', 'threats', 'rollup_models', 'rollup_errors', 'rollup_feedback', 'model_usage_daily'])
          expect(await countRows(rt, table)).toBe(0)
        expect(await countRows(rt, 'users')).toBe(2)
        expect(await countRows(rt, 'api_keys', `user_id = '${demo}'`)).toBe(1)
        expect(await countRows(rt, 'request_logs')).toBe(real)
        expect(await rollupsDisagreeingWithTheLog(rt)).toEqual([])
      } finally {
        await close()
      }
    },
    60_000,
  )
})
