// Security headers on every response. The CSP allows only the server's own scripts, styles
// and connections (Swagger UI sets inline styles). Answers under /api/auth and /api/keys carry
// tokens, keys or who is signed in: no cache, shared or private, may keep them.
import { Elysia } from 'elysia'

const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ')

const credentialPaths = /^\/api\/(auth|keys)(\/|$)/

/** The path of a request URL, without parsing it (`new URL` on every request costs). */
const pathOf = (url: string) => url.slice(url.indexOf('/', url.indexOf('//') + 2))

export const securityHeaders = (trustProxy: number) =>
  new Elysia({ name: 'security-headers', seed: trustProxy }).onRequest(({ request, set }) => {
    set.headers['x-content-type-options'] = 'nosniff'
    set.headers['referrer-policy'] = 'no-referrer'
    set.headers['x-frame-options'] = 'DENY'
    set.headers['content-security-policy'] = contentSecurityPolicy
    if (credentialPaths.test(pathOf(request.url))) set.headers['cache-control'] = 'no-store'
    const https =
      request.url.startsWith('https:') ||
      (trustProxy && request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() === 'https')
    if (https) set.headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains'
  })
