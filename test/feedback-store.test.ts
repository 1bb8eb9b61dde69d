// The feedback store's contract (rt.store.feedback), whatever database is behind it: one rating
// per completion (a second replaces the first, also when both are saved at once), and generated
// ratings removed without real ones.
import { afterAll, describe, expect, test } from 'bun:test'
import { DAY, HOUR } from '../src/http/dates'
import { testRuntime } from './support/app'
import { seedUser } from './support/users'

const rt = await testRuntime()
const feedback = rt.store.feedback
const user = await seedUser(rt)
afterAll(() => rt.close())

describe('feedback store', () => {
  test('a rating is created, then replaced (same id and creation time)', async () => {
    const first = await feedback.save({ completionId: 'chatcmpl-a', userId: user.userId, rating: 2, comment: null, now: 1_000 })
    expect(first).toEqual({
      created: true,
      feedback: { id: first.feedback.id, completionId: 'chatcmpl-a', userId: user.userId, rating: 2, comment: null, createdAt: 1_000, updatedAt: 1_000 },
    })
    const second = await feedback.save({ completionId: 'chatcmpl-a', userId: user.userId, rating: 5, comment: 'better', now: 2_000 })
    expect(second).toEqual({ created: false, feedback: { ...first.feedback, rating: 5, comment: 'better', updatedAt: 2_000 } })
  })

  test('nobody owns a completion no request log names', async () => {
    expect(await feedback.ownsCompletion('chatcmpl-unknown', user.userId)).toBe(false)
  })

  test('deleting generated ratings removes only those, and says how many', async () => {
    await feedback.addGenerated([
      { completionId: 'chatcmpl-g1', userId: user.userId, rating: 4, comment: null, createdAt: 5_000 },
      { completionId: 'chatcmpl-g2', userId: user.userId, rating: 1, comment: 'meh', createdAt: 6_000 },
    ])
    expect(await feedback.deleteGenerated()).toBe(2)
    expect(await feedback.deleteGenerated()).toBe(0)
    // The real rating is still there: saving it again replaces it.
    expect((await feedback.save({ completionId: 'chatcmpl-a', userId: user.userId, rating: 3, comment: null, now: 7_000 })).created).toBe(false)
  })

  test('ratings of one completion saved at once: one is created, the others replace it, the rollup counts one', async () => {
    const day = 10 * DAY
    const saves = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        feedback.save({ completionId: 'chatcmpl-race', userId: user.userId, rating: 1 + (i % 5), comment: null, now: day + i }),
      ),
    )
    expect(saves.filter((save) => save.created)).toHaveLength(1)
    expect(new Set(saves.map((save) => save.feedback.id)).size).toBe(1)
    const counts = await rt.store.dashboard.ratingCounts({ scope: '', from: day, to: day + DAY, step: HOUR })
    expect(counts.filter((count) => count.ratings !== 0).map((count) => count.ratings)).toEqual([1])
  })
})
