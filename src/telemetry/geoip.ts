// Country of an IP address, from the GeoLite2 country tables that the geoip-country package
// ships, embedded in the binary. Its JavaScript reads files beside itself (which a compiled
// binary does not have), so the two tables are read here. Records are sorted ranges:
// IPv4 = start u32 BE, end u32 BE, 2-letter code; IPv6 = start u64 BE, end u64 BE (the
// address's upper 64 bits), 2-letter code.
import { readFileSync } from 'node:fs'
import { isIPv4, isIPv6 } from 'node:net'
import v4Path from 'geoip-country/data/geoip-country.dat' with { type: 'file' }
import v6Path from 'geoip-country/data/geoip-country6.dat' with { type: 'file' }

type Table = { view: DataView; bytes: Uint8Array; size: number; count: number }

let tables: { v4: Table; v6: Table } | undefined

function table(path: string, size: number): Table {
  const bytes = new Uint8Array(readFileSync(path))
  return { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes, size, count: bytes.length / size }
}

/** Loaded on first use: 8 MB that an idle server does not need. */
function load() {
  return (tables ??= { v4: table(v4Path, 10), v6: table(v6Path, 18) })
}

function search<T extends number | bigint>(t: Table, key: T, read: (offset: number) => T, width: number): string | null {
  let low = 0
  let high = t.count - 1
  while (low <= high) {
    const mid = (low + high) >>> 1
    const offset = mid * t.size
    if (key < read(offset)) high = mid - 1
    else if (key > read(offset + width)) low = mid + 1
    else return String.fromCharCode(t.bytes[offset + 2 * width]!, t.bytes[offset + 2 * width + 1]!)
  }
  return null
}

function ipv4Number(address: string): number {
  return address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0)
}

/** The upper 64 bits of an IPv6 address (the tables' key), or the IPv4 address it maps. */
function ipv6Key(address: string): { v4: string } | { v6: bigint } {
  const mapped = /^(?:::|(?:0{1,4}:){5})ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return { v4: mapped[1]! }
  let [head = '', tail] = address.split('::') as [string, string | undefined]
  const groups = (part: string | undefined) => (part ? part.split(':') : [])
  if (tail?.includes('.') || head.includes('.')) return { v6: 0n } // other embedded-IPv4 forms: no country
  const left = groups(head)
  const right = groups(tail)
  const all = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  return { v6: all.slice(0, 4).reduce((sum, group) => (sum << 16n) + BigInt(parseInt(group || '0', 16)), 0n) }
}

/** The ISO 3166 alpha-2 code of the address's country, or null (private, reserved or unlisted). */
export function countryCodeOf(address: string): string | null {
  const { v4, v6 } = load()
  if (isIPv4(address)) return search(v4, ipv4Number(address), (o) => v4.view.getUint32(o), 4)
  if (!isIPv6(address)) return null
  const key = ipv6Key(address)
  if ('v4' in key) return countryCodeOf(key.v4)
  return search(v6, key.v6, (o) => v6.view.getBigUint64(o), 8)
}
