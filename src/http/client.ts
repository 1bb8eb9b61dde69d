// Who is on the other end of a request: the address and user agent recorded with a sign-in.
// Behind a trusted proxy (TRUST_PROXY) the first X-Forwarded-For hop is the client.
import type { Server } from 'bun'

export type Client = { ip: string | null; userAgent: string | null }

export function clientOf(request: Request, server: Server<unknown> | null, trustProxy: boolean): Client {
  const forwarded = trustProxy ? request.headers.get('x-forwarded-for')?.split(',')[0]?.trim() : undefined
  const ip = forwarded || server?.requestIP(request)?.address || null
  const userAgent = request.headers.get('user-agent')?.slice(0, 512) || null
  return { ip, userAgent }
}
