// POST /api/feedback/: rating one's own completions, once each, shown on the dashboard.
import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { withFakeChat } from './support/fake-chat'
import { seedUser } from './support/users'

const { rt, app, call, close } = await testApp({ LOG_FLUSH_MS: '60000' })
withFakeChat(app, rt)
afterAll(close)

const alice = await seedUser(rt)
const bob = await seedUser(rt)
const admin = await seedUser(rt, { role: 'admin' })

/** A completion made by `token`'s user; its log row is still in the writer's batch. */
const completion = async (token: string) => {
  const res = await call('/v1/test/completions', { method: 'POST', token, json: { model: 'm', promptTokens: 1, completionTokens: 1 } })
  await new Promise((resolve) => setImmediate(resolve))
  return (await res.json()).id as string
}
const rate = (token: string, json: unknown) => call('/api/feedback/', { method: 'POST', token, json })
const feedbackOf = async (token: string) => {
  const res = await call('/api/dashboard/?range=24h', { token })
  return (await res.json()).feedback
}

describe('POST /api/feedback/', () => {
  test('a rating of your own completion → 201; it counts on the dashboard', async () => {
    const id = await completion(alice.accessToken)
    const res = await rate(alice.accessToken, { completionId: id, rating: 4, comment: '  helpful  ' })
    expect(res.status).toBe(201)
    expect(await res.json()).toEqual({
      id: expect.any(Number),
      completionId: id,
      rating: 4,
      comment: 'helpful',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    })
    expect(await feedbackOf(alice.accessToken)).toEqual({
      totalFeedback: 1,
      avgRating: 4,
      ratingDistribution: { '1': 0, '2': 0, '3': 0, '4': 1, '5': 0 },
    })
  })

  test('a second rating of the same completion replaces the first → 200', async () => {
    const id = await completion(bob.apiKey)
    expect((await rate(bob.apiKey, { completionId: id, rating: 1 })).status).toBe(201)
    const res = await rate(bob.apiKey, { completionId: id, rating: 5, comment: 'better on reflection' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ completionId: id, rating: 5, comment: 'better on reflection' })
    const listed = await (await call('/api/admin/feedback/?limit=200', { token: admin.accessToken })).json()
    expect(listed.items.filter((item: { completionId: string }) => item.completionId === id)).toHaveLength(1)
    expect(await feedbackOf(bob.apiKey)).toEqual({
      totalFeedback: 1,
      avgRating: 5,
      ratingDistribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 1 },
    })
    expect((await feedbackOf(admin.accessToken)).ratingDistribution).toEqual({ '1': 0, '2': 0, '3': 0, '4': 1, '5': 1 })
    expect((await feedbackOf(admin.accessToken)).avgRating).toBe(4.5)
  })

  test("someone else's completion, or an unknown one → 404 naming the field, not the id sent", async () => {
    const id = await completion(alice.accessToken)
    for (const [token, completionId] of [
      [bob.accessToken, id],
      [alice.accessToken, 'chatcmpl-does-not-exist'],
    ] as const) {
      const res = await rate(token, { completionId, rating: 3 })
      expect(res.status).toBe(404)
      const { error, message } = await res.json()
      expect(error).toBe('Not found')
      expect(message).toContain('completionId')
      expect(message).not.toContain(completionId)
    }
  })

  test.each([
    [{ completionId: 'x', rating: 0 }, 'rating'],
    [{ completionId: 'x', rating: 6 }, 'rating'],
    [{ completionId: 'x', rating: 4.5 }, 'rating'],
    [{ rating: 5 }, 'completionId'],
    [{ completionId: '', rating: 5 }, 'completionId'],
    [{ completionId: 'x', rating: 5, comment: 'x'.repeat(2001) }, 'comment'],
    [{ completionId: 'x', rating: '3' }, 'rating'],
  ])('%j → 400 naming %s', async (json, field) => {
    const res = await rate(alice.accessToken, json)
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.error).toBe('Validation error')
    expect(body.message).toContain(field)
  })

  test('without a token → 401', async () => {
    expect((await call('/api/feedback/', { method: 'POST', json: { completionId: 'x', rating: 5 } })).status).toBe(401)
  })
})
