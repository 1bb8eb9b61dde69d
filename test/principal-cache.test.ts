// The principal cache (src/auth/principal-cache.ts): who holds a token is remembered for up to
// a second, forgotten at once by the changes that take power away, on every replica through
// Redis. Time is passed in (`now`) so that only a forgetting, never the clock, makes it reload.
import { afterAll, describe, expect, test } from 'bun:test'
import { principalCacheOf, principalsChanged } from '../src/auth/principal-cache'
import { testRuntime } from './support/app'
import { redisReachable, redisTestUrl, testPrefix } from './support/redis'

const NOW = 1_000_000

/** A loader that counts its calls and answers `holder`. */
function loader(holder: { userId: string; ok: boolean } | undefined) {
  const counted = { calls: 0, load: async () => (counted.calls++, holder) }
  return counted
}
const grants = (holder: { ok: boolean }) => holder.ok

describe('principal cache', async () => {
  const rt = await testRuntime()
  afterAll(() => rt.close())
  const cache = principalCacheOf(rt)

  test('a holder that grants access is kept for a second, then asked again', async () => {
    const source = loader({ userId: 'u1', ok: true })
    for (let i = 0; i < 5; i++) await cache.remember('key:a', source.load, grants, NOW)
    expect(source.calls).toBe(1)
    await cache.remember('key:a', source.load, grants, NOW + 1_001)
    expect(source.calls).toBe(2)
  })

  test('a refusal, or no holder at all, is never kept', async () => {
    const refused = loader({ userId: 'u2', ok: false })
    const nobody = loader(undefined)
    for (let i = 0; i < 3; i++) {
      await cache.remember('key:refused', refused.load, grants, NOW)
      await cache.remember('key:nobody', nobody.load, grants, NOW)
    }
    expect([refused.calls, nobody.calls]).toEqual([3, 3])
  })

  test("a change to the user forgets its entries at once, and only that user's", async () => {
    const mine = loader({ userId: 'u3', ok: true })
    const theirs = loader({ userId: 'u4', ok: true })
    await cache.remember('key:mine', mine.load, grants, NOW)
    await cache.remember('key:theirs', theirs.load, grants, NOW)
    await principalsChanged(rt, 'u3')
    await cache.remember('key:mine', mine.load, grants, NOW)
    await cache.remember('key:theirs', theirs.load, grants, NOW)
    expect([mine.calls, theirs.calls]).toEqual([2, 1])
  })

  test('a lookup overtaken by a change is not kept (it may be from before the change)', async () => {
    let release!: () => void
    const slow = { calls: 0, load: async () => (slow.calls++, await new Promise<void>((resolve) => (release = resolve)), { userId: 'u5', ok: true }) }
    const pending = cache.remember('key:slow', slow.load, grants, NOW)
    await principalsChanged(rt, 'u5')
    release()
    await pending
    await cache.remember('key:slow', async () => (slow.calls++, { userId: 'u5', ok: true }), grants, NOW)
    expect(slow.calls).toBe(2)
  })
})

describe.if(await redisReachable('test/principal-cache.test.ts'))('principal cache across replicas', async () => {
  const prefix = testPrefix()
  const [a, b] = await Promise.all([testRuntime({ REDIS_URL: redisTestUrl, REDIS_PREFIX: prefix }), testRuntime({ REDIS_URL: redisTestUrl, REDIS_PREFIX: prefix })])
  afterAll(() => Promise.all([a.close(), b.close()]))

  test("a change made through one replica makes the other forget who held the user's tokens", async () => {
    const onB = loader({ userId: 'u6', ok: true })
    principalCacheOf(a) // A listens too
    await principalCacheOf(b).remember('key:b', onB.load, grants, NOW)
    await Bun.sleep(50) // B's subscription is made
    await principalsChanged(a, 'u6')
    for (let i = 0; i < 100 && onB.calls < 2; i++) {
      await Bun.sleep(10)
      await principalCacheOf(b).remember('key:b', onB.load, grants, NOW)
    }
    expect(onB.calls).toBe(2)
  })
})
