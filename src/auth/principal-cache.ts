// Who holds a session or an API key, remembered for up to HOLD_MS, so that a busy caller costs
// the database one lookup a second instead of one per request (on PostgreSQL a round trip and
// about 40 µs of this process's CPU each: a fifth of the throughput of a CPU-bound stream).
// Every change that can take power away — a deactivation, a role change, a revoked key or
// session, the revocations of a promotion or a claimed account — forgets the user's entries at
// once, here and, with REDIS_URL, on every replica (pub/sub). A replica that misses the message
// (Redis lost, or a change made by a command-line tool without Redis) still forgets within
// HOLD_MS. Only holders that grant access are kept: a refusal asks the database each time, so
// a caller spraying bad keys cannot fill the memory or keep a stale "no".
import type { Runtime } from '../runtime'
import { perRuntime } from '../runtime'
import { redisOf } from '../shared/redis'

/** How long a lookup is trusted: the bound on how late a missed invalidation is seen. */
export const HOLD_MS = 1_000
/** Entries kept at most (the oldest go first). */
const MAX_ENTRIES = 50_000
const CHANNEL = 'principals:changed'

type Entry = { userId: string; holder: unknown; until: number }

/** Lookups about users, each remembered for HOLD_MS and forgotten at once by a change to its user. */
export class UserCache {
  private readonly entries = new Map<string, Entry>()
  /** How many times entries were forgotten: a lookup that a forgetting overtook is not kept. */
  private forgets = 0

  /** The holder under `key`: remembered, or loaded with `load` and kept when `grants` says it grants access. */
  async remember<H extends { userId: string }>(key: string, load: () => Promise<H | undefined>, grants: (holder: H) => boolean, now = Date.now()): Promise<H | undefined> {
    const known = this.entries.get(key)
    if (known && known.until > now) return known.holder as H
    if (known) this.entries.delete(key)
    const forgetsBefore = this.forgets
    const holder = await load()
    if (!holder || !grants(holder)) return holder
    // Something was forgotten while it loaded: what was loaded may be from before the change.
    if (this.forgets !== forgetsBefore) return holder
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, { userId: holder.userId, holder, until: now + HOLD_MS })
    return holder
  }

  forgetUser(userId: string) {
    this.forgets++
    for (const [key, entry] of this.entries) if (entry.userId === userId) this.entries.delete(key)
  }

  /** Forgets everyone (a change made behind the services' back, as tests make). */
  forgetAll() {
    this.forgets++
    this.entries.clear()
  }

  close() {
    this.entries.clear()
  }
}

/**
 * A runtime's cache of lookups about users, forgotten on `channel`: with REDIS_URL it listens for
 * the other replicas' changes (see `forgetOnEveryReplica`). Budgets keep one too (src/budgets/).
 */
export function userCache(channel: string) {
  return perRuntime((rt) => {
    const cache = new UserCache()
    redisOf(rt)
      ?.subscribe(channel, (userId) => cache.forgetUser(userId))
      .catch(() => {}) // Redis lost: the other replicas' changes are seen within HOLD_MS instead.
    return cache
  })
}

/** Forgets the user's entries here and, with REDIS_URL, on every replica. Waits for the message to be published (not for it to arrive). */
export async function forgetOnEveryReplica(rt: Runtime, cache: UserCache, channel: string, userId: string) {
  cache.forgetUser(userId)
  await redisOf(rt)?.publish(channel, userId).catch(() => {})
}

/** The runtime's cache of who holds sessions and keys. */
export const principalCacheOf = userCache(CHANNEL)

/**
 * A change to what the user may do has been written: every replica forgets who its sessions and
 * keys belong to.
 */
export const principalsChanged = (rt: Runtime, userId: string) => forgetOnEveryReplica(rt, principalCacheOf(rt), CHANNEL, userId)
