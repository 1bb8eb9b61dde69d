// The caller's address: the socket's peer, or, behind trusted proxies (TRUST_PROXY), the address
// the outermost of them saw. Each proxy appends the address it saw to X-Forwarded-For, so with
// N proxies that is the N-th entry from the end; entries before it come from the client and
// prove nothing. Without the setting nothing is believed.
import { isIP } from 'node:net'

type AddressSource = { requestIP(request: Request): { address: string } | null } | null | undefined

/** Peer addresses of requests the server re-made before the app saw them (the socket knows only the original). */
const peers = new WeakMap<Request, string>()

export function keepAddress(copy: Request, original: Request, server: AddressSource): Request {
  const address = peers.get(original) ?? server?.requestIP(original)?.address
  if (address) peers.set(copy, address)
  return copy
}

/** Reads the socket's peer while the request is live: once the response is sent, Bun no longer knows it. */
export function rememberPeer(request: Request, server: AddressSource) {
  if (peers.has(request)) return
  const address = server?.requestIP(request)?.address
  if (address) peers.set(request, address)
}

/**
 * An IPv4 or IPv6 address as proxies write them (with a port, IPv6 in brackets, a zone): what a
 * proxy passed on unchecked from its client is not taken for one, nor stored.
 */
export function isAddress(value: string): boolean {
  if (value.length > 64) return false
  const bare = /^\[(.+)\](?::\d+)?$/.exec(value)?.[1] ?? /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(value)?.[1] ?? value
  return isIP(bare.split('%')[0]!) !== 0
}

export function clientAddress(request: Request, server: AddressSource, trustProxy: number): string | undefined {
  if (trustProxy) {
    const hops = request.headers.get('x-forwarded-for')?.split(',')
    const forwarded = hops?.[Math.max(0, hops.length - trustProxy)]?.trim()
    if (forwarded && isAddress(forwarded)) return forwarded
    const real = request.headers.get('x-real-ip')?.trim()
    if (real && isAddress(real)) return real
  }
  return peers.get(request) ?? server?.requestIP(request)?.address ?? undefined
}

/**
 * The unit a client is counted by in limits and threat counters: its IPv4 address, or its IPv6
 * /64 (one host is usually given a whole /64, and could otherwise take a fresh address per try).
 */
export function addressKey(address: string): string {
  // Some proxies write a port: 1.2.3.4:5678, [2001:db8::1]:443.
  const bare = /^\[(.+)\](?::\d+)?$/.exec(address)?.[1] ?? /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(address)?.[1] ?? address
  if (!bare.includes(':')) return bare
  const ipv4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(bare) // IPv4 written inside IPv6 (::ffff:1.2.3.4)
  if (ipv4) return ipv4[1]!
  const [head = '', tail = ''] = bare.split('%')[0]!.split('::')
  const left = head ? head.split(':') : []
  const right = bare.includes('::') && tail ? tail.split(':') : []
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right].map((group) => parseInt(group, 16) || 0)
  // An IPv4-mapped address in hex (::ffff:102:304) is that IPv4 client.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff)
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.')
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`
}
