// The caller's address: the socket's peer, or the first X-Forwarded-For hop when a trusted
// proxy sits in front (TRUST_PROXY). Without that setting a client cannot spoof its address.

type AddressSource = { requestIP(request: Request): { address: string } | null } | null | undefined

/** Peer addresses of requests the server re-made before the app saw them (the socket knows only the original). */
const peers = new WeakMap<Request, string>()

export function keepAddress(copy: Request, original: Request, server: AddressSource): Request {
  const address = server?.requestIP(original)?.address
  if (address) peers.set(copy, address)
  return copy
}

export function clientAddress(request: Request, server: AddressSource, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim()
    if (forwarded) return forwarded
    const real = request.headers.get('x-real-ip')?.trim()
    if (real) return real
  }
  return peers.get(request) ?? server?.requestIP(request)?.address ?? undefined
}
