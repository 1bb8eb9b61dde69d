// Where a request comes from: its country, shown as "United States (US)". Proxy headers
// count only with TRUST_PROXY; unknown stays null.
import { clientAddress } from '../http/client-address'
import { countryCodeOf } from './geoip'

const countryHeaders = ['cf-ipcountry', 'x-country-code', 'cloudfront-viewer-country']
const regions = new Intl.DisplayNames(['en'], { type: 'region' })
const names = new Map<string, string | null>()

/** "Germany (DE)" for a known ISO 3166 alpha-2 code; null for "XX", "T1" and the like. */
export function countryName(code: string): string | null {
  const upper = code.toUpperCase()
  let name = names.get(upper)
  if (name === undefined) {
    let region: string | undefined
    try {
      region = /^[A-Z]{2}$/.test(upper) && upper !== 'ZZ' ? regions.of(upper) : undefined
    } catch {}
    name = region && region !== upper ? `${region} (${upper})` : null
    if (names.size < 1000) names.set(upper, name)
  }
  return name
}

export function countryOf(request: Request, address: string | undefined, trustProxy: number): string | null {
  if (trustProxy)
    for (const header of countryHeaders) {
      const code = request.headers.get(header)?.trim()
      if (code) return countryName(code)
    }
  const code = address ? countryCodeOf(address) : null
  return code ? countryName(code) : null
}

type AddressSource = Parameters<typeof clientAddress>[1]

/** Who is calling, as the request log and a new session record it. */
export function clientInfo(request: Request, server: AddressSource, trustProxy: number) {
  const address = clientAddress(request, server, trustProxy)
  return {
    ip: address ?? null,
    country: countryOf(request, address, trustProxy),
    userAgent: request.headers.get('user-agent')?.slice(0, 512) || null,
  }
}
