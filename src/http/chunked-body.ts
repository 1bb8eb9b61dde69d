// Bodies sent without a Content-Length (chunked) are read here, up to MAX_BODY_BYTES, before
// the app sees them. A body within the limit is handed on with its length declared; a larger
// one is handed on empty, declaring the length read so far, so that the body-limit plugin
// answers it like any other oversized body (413 envelope, logged, counted as a flood).
import { keepAddress } from './client-address'

type AddressSource = Parameters<typeof keepAddress>[2]

export async function withDeclaredLength(request: Request, maxBytes: number, server: AddressSource): Promise<Request> {
  if (!request.body || request.headers.has('content-length')) return request
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
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
  const headers = new Headers(request.headers)
  headers.delete('transfer-encoding')
  headers.set('content-length', String(size))
  const body = size > maxBytes ? null : Buffer.concat(chunks)
  const copy = new Request(request.url, { method: request.method, headers, body, signal: request.signal })
  return keepAddress(copy, request, server)
}
