// Bodies sent without a Content-Length (chunked) are read here, up to MAX_BODY_BYTES and within
// BODY_TIMEOUT_MS, before the app sees them. A body within the limit is handed on with its length
// declared; a larger one is handed on empty, declaring the length read so far, so that the
// body-limit plugin answers it like any other oversized body (413 envelope, logged, counted as a
// flood); one that did not arrive in time is handed on empty and marked, and answered 408 by the
// json-body plugin.
import { BodyDeadline } from './body-deadline'
import { keepAddress } from './client-address'

type AddressSource = Parameters<typeof keepAddress>[2]

/** Requests whose chunked body did not arrive within BODY_TIMEOUT_MS. */
export const timedOutBodies = new WeakSet<Request>()

async function readUpTo(reader: ReadableStreamDefaultReader<Uint8Array>, maxBytes: number) {
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      break
    }
    chunks.push(value)
  }
  return { size, body: size > maxBytes ? null : Buffer.concat(chunks) }
}

export async function withDeclaredLength(
  request: Request,
  maxBytes: number,
  deadline: BodyDeadline,
  server: AddressSource,
): Promise<Request> {
  if (!request.body || request.headers.has('content-length')) return request
  const reader = request.body.getReader()
  let read: Awaited<ReturnType<typeof readUpTo>> | undefined
  try {
    read = await deadline.within(readUpTo(reader, maxBytes))
  } catch {
    void reader.cancel().catch(() => {})
  }
  const headers = new Headers(request.headers)
  headers.delete('transfer-encoding')
  headers.set('content-length', String(read?.size ?? 0))
  const copy = new Request(request.url, { method: request.method, headers, body: read?.body ?? null, signal: request.signal })
  if (!read) timedOutBodies.add(copy)
  return keepAddress(copy, request, server)
}
