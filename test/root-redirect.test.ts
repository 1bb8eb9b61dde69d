// A browser opened on the server's root lands on the admin UI rather than a JSON 404.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { testApp } from './support/app'

let app: Awaited<ReturnType<typeof testApp>>
beforeAll(async () => {
  app = await testApp()
})
afterAll(() => app.close())

test('GET / redirects to /admin (302, so browsers do not cache it for good), which serves the UI', async () => {
  const res = await app.call('/')
  expect(res.status).toBe(302)
  expect(res.headers.get('location')).toBe('/admin')
  expect(res.headers.get('x-request-id')).toBeTruthy()
  const admin = await app.call(res.headers.get('location')!)
  expect(admin.status).toBe(200)
  expect(admin.headers.get('content-type')).toStartWith('text/html')
  // It is no API route: the OpenAPI document leaves it out.
  const doc = await (await app.call('/swagger/json')).json()
  expect(Object.keys(doc.paths)).not.toContain('/')
})

test('HEAD / redirects the same way', async () => {
  const res = await app.call('/', { method: 'HEAD' })
  expect(res.status).toBe(302)
  expect(res.headers.get('location')).toBe('/admin')
})

test('another method on / is told which one the root answers', async () => {
  const res = await app.call('/', { method: 'POST' })
  expect(res.status).toBe(405)
  expect(res.headers.get('allow')).toContain('GET')
})
