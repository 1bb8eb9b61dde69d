// The threat store's contract (rt.store.threats), whatever database is behind it: recording,
// listing newest first with filters and paging, resolving once, and the unblock requests.
import { afterAll, describe, expect, test } from 'bun:test'
import { testRuntime } from './support/app'
import { queryPlan, threatRollupDisagreeingWithThreats } from './support/tables'
import { recordedThreats } from './support/threats'

const rt = await testRuntime()
const threats = rt.store.threats
afterAll(() => rt.close())

describe('threat store', () => {
  test('recorded threats are listed newest first, filtered, paged by id; the total ignores the paging', async () => {
    const at = Date.UTC(2026, 0, 1)
    threats.record({ type: 'brute_force', severity: 'high', address: '192.0.2.1', detail: 'x'.repeat(600) }, at)
    threats.record({ type: 'invalid_token', severity: 'low', userId: 'u1', apiKeyId: 'k1', detail: 'forged' }, at + 1)
    threats.record({ type: 'invalid_token', severity: 'medium', detail: 'forged again' }, at + 2)
    const all = await threats.list({ limit: 10 })
    expect(all.total).toBe(3)
    expect(all.items.map((threat) => threat.detail.slice(0, 12))).toEqual(['forged again', 'forged', 'x'.repeat(12)])
    expect(all.items[1]).toEqual({
      id: all.items[1]!.id,
      type: 'invalid_token',
      severity: 'low',
      userId: 'u1',
      apiKeyId: 'k1',
      address: null,
      detail: 'forged',
      createdAt: at + 1,
      resolved: false,
      resolvedBy: null,
      resolvedAt: null,
    })
    expect(all.items[2]!.detail).toHaveLength(500)
    const firstPage = await threats.list({ type: 'invalid_token', limit: 1 })
    expect(firstPage.total).toBe(2)
    const secondPage = await threats.list({ type: 'invalid_token', limit: 1, beforeId: firstPage.items[0]!.id })
    expect(secondPage).toEqual({ total: 2, items: [all.items[1]!] })
    expect((await threats.list({ severity: 'high', limit: 10 })).items.map((threat) => threat.type)).toEqual(['brute_force'])
  })

  test('a threat is resolved once: the first resolver and time are kept; an unknown id is undefined', async () => {
    const [threat] = await recordedThreats(rt, { type: 'brute_force' })
    const resolved = await threats.resolve(threat!.id, 'first@example.com', 1_000)
    expect(resolved).toMatchObject({ id: threat!.id, resolved: true, resolvedBy: 'first@example.com', resolvedAt: 1_000 })
    expect(await threats.resolve(threat!.id, 'second@example.com', 2_000)).toEqual(resolved)
    expect(await threats.resolve(999_999, 'first@example.com', 3_000)).toBeUndefined()
    expect((await threats.list({ resolved: true, limit: 10 })).items.map((item) => item.id)).toEqual([threat!.id])
    expect((await threats.list({ resolved: false, limit: 10 })).total).toBe(2)
  })

  test('rollup_threats counts exactly the threats recorded and resolved (an hour and a day apart, in the same transaction)', async () => {
    const hour = 3_600_000
    const at = Date.UTC(2026, 1, 1, 23, 30)
    for (const [i, severity] of (['low', 'low', 'critical'] as const).entries())
      threats.record({ type: 'rate_limit', severity, address: '192.0.2.9', detail: 'flood' }, at + i * hour)
    const recorded = (await threats.list({ type: 'rate_limit', limit: 10 })).items
    await threats.resolve(recorded[1]!.id, 'first@example.com', at)
    await threats.resolve(recorded[1]!.id, 'second@example.com', at)
    expect(await threatRollupDisagreeingWithThreats(rt)).toEqual([])
  })

  test('threats that populate-dashboard-data adds and removes are counted in and out of rollup_threats', async () => {
    const at = Date.UTC(2026, 2, 1)
    const generated = { userId: null, address: '192.0.2.10', detail: 'generated' }
    await rt.store.populate.insertThreats([
      { ...generated, type: 'brute_force', severity: 'high', createdAt: at, resolvedAt: null },
      { ...generated, type: 'brute_force', severity: 'high', createdAt: at + 1, resolvedAt: at + 2 },
      { ...generated, type: 'rate_limit', severity: 'low', createdAt: at - 1, resolvedAt: null },
    ])
    expect(await threatRollupDisagreeingWithThreats(rt)).toEqual([])
    expect((await rt.store.populate.deleteGeneratedAccounts()).threats).toBe(3)
    expect(await threatRollupDisagreeingWithThreats(rt)).toEqual([])
  })

  test('the open threats, newest first (the admin list as it opens), come straight from an index, not from sorting every open threat', async () => {
    const plan = await queryPlan(rt, 'SELECT * FROM threats WHERE resolved = false ORDER BY id DESC LIMIT 50')
    expect(plan).toContain('threats_resolved_id')
    expect(plan).not.toMatch(/TEMP B-TREE|Sort/)
  })

  test('unblock requests are read after the newest one seen; old ones are removed by the next request', async () => {
    const day = 86_400_000
    const seen = await threats.newestUnblockId()
    await threats.requestUnblock({ email: 'old@example.com', address: null }, 1_000, day)
    await threats.requestUnblock({ email: null, address: '192.0.2.7' }, 2_000, day)
    const after = await threats.unblocksAfter(seen)
    expect(after.map(({ email, address }) => ({ email, address }))).toEqual([
      { email: 'old@example.com', address: null },
      { email: null, address: '192.0.2.7' },
    ])
    expect(await threats.newestUnblockId()).toBe(after.at(-1)!.id)
    // A day and more later, the two earlier requests are gone.
    await threats.requestUnblock({ email: 'new@example.com', address: null }, 3_000 + day, day)
    expect((await threats.unblocksAfter(0)).map(({ email }) => email)).toEqual(['new@example.com'])
  })
})
