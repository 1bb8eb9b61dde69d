// Gives every response an X-Request-Id: the caller's own if it sent a sane one, else a new one.
import { Elysia } from 'elysia'

const sane = /^[\w.:-]{1,128}$/

export const requestId = new Elysia({ name: 'request-id' }).onRequest(({ request, set }) => {
  const given = request.headers.get('x-request-id')
  set.headers['x-request-id'] = given && sane.test(given) ? given : Bun.randomUUIDv7()
})
