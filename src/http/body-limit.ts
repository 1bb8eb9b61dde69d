// Refuses bodies above the size limit with 413 before they are read: MAX_BODY_BYTES, and 16 KB
// under /api/auth, whose bodies (credentials, a refresh token, Apple's callback form) are small and
// which anyone may call without signing in — a megabyte parsed there costs everyone.
// Chunked bodies get a declared length from the server before they reach the app (see http/chunked-body.ts).
import { Elysia } from 'elysia'
import { HttpError } from './errors'

/** The largest body a sign-in route takes: a 1 KB password, a 4 KB refresh token, a form of a few fields. */
export const AUTH_BODY_BYTES = 16 * 1024

const authPath = /^https?:\/\/[^/]+\/api\/auth(\/|$)/

export const bodyLimit = (maxBytes: number) =>
  new Elysia({ name: 'body-limit', seed: maxBytes }).onRequest(({ request }) => {
    const length = Number(request.headers.get('content-length') ?? 0)
    const limit = authPath.test(request.url) ? Math.min(maxBytes, AUTH_BODY_BYTES) : maxBytes
    if (length > limit)
      throw new HttpError(413, `The request body is larger than the limit of ${limit} bytes`, {
        code: 'payload_too_large',
        // The unread body is still on the wire: end the connection rather than reuse it.
        headers: { connection: 'close' },
      })
  })
