// Elysia finds a request's path by searching for "/" from the URL's 12th character on, which
// skips the path of http://api/v1/… : the URL Bun builds from a Host of three characters or
// fewer, such as nginx's `proxy_pass http://api;` sends. Such a request is handed on as
// http://localhost/…; nothing in the app reads the host.
import { keepAddress } from './client-address'

type AddressSource = Parameters<typeof keepAddress>[2]

export function withRoutableUrl(request: Request, server: AddressSource): Request {
  const url = request.url
  const path = url.indexOf('/', url.indexOf('//') + 2)
  if (path === -1 || path >= 11) return request
  const copy = new Request(`http://localhost${url.slice(path)}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: request.signal,
  })
  return keepAddress(copy, request, server)
}
