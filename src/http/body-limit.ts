// Refuses bodies above the configured size with 413 before they are read.
// Chunked bodies get a declared length from the server before they reach the app (see http/chunked-body.ts).
import { Elysia } from 'elysia'
import { HttpError } from './errors'

export const bodyLimit = (maxBytes: number) =>
  new Elysia({ name: 'body-limit', seed: maxBytes }).onRequest(({ request }) => {
    const length = Number(request.headers.get('content-length') ?? 0)
    if (length > maxBytes)
      throw new HttpError(413, `The request body is larger than the limit of ${maxBytes} bytes`, {
        code: 'payload_too_large',
        // The unread body is still on the wire: end the connection rather than reuse it.
        headers: { connection: 'close' },
      })
  })
