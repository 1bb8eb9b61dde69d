// The threats a test's server recorded, read through the threat store (rt.store.threats)
// rather than its table, oldest first (the order in which they were raised).
import type { Runtime } from '../../src/runtime'
import type { Threat, ThreatFilter } from '../../src/threats/store'

/** Enough for any one test: the store pages its list, newest first. */
const ALL = 10_000

export async function recordedThreats(rt: Runtime, filter: Omit<ThreatFilter, 'limit' | 'beforeId'> = {}): Promise<Threat[]> {
  const { items } = await rt.store.threats.list({ ...filter, limit: ALL })
  return items.reverse()
}
