// The concurrency limiter behind one interface: how many requests each key has in progress,
// counted in this process's memory (one replica), or in Redis (every replica sharing REDIS_URL
// counts together).
import { sharedOrLocal } from '../shared/fallback'
import type { RedisLink, RedisSettings } from '../shared/redis'
import { uniqueIds } from '../shared/unique-ids'

export type Admission = {
  allowed: boolean
  limit: number
  /** Requests the key has in progress, this one included when it was let in. */
  active: number
  /**
   * Gives the slot back; only the first call counts, so every way a request ends may call it.
   * Resolves once the slot is free for every replica; never rejects.
   */
  release(): Promise<void>
}

export interface ConcurrencyLimiter {
  /** Takes one of `limit` slots for `key`, unless all are taken. */
  acquire(key: string, limit: number): Promise<Admission>
  close(): void
}

const nothingToRelease = async () => {}

/** The check and the count happen in one synchronous step, so N+k concurrent requests let exactly N in. */
export function memoryConcurrencyLimiter(): ConcurrencyLimiter {
  const active = new Map<string, number>()
  return {
    async acquire(key, limit) {
      const taken = active.get(key) ?? 0
      if (taken >= limit) return { allowed: false, limit, active: taken, release: nothingToRelease }
      active.set(key, taken + 1)
      let released = false
      const release = async () => {
        if (released) return
        released = true
        const left = active.get(key)! - 1
        if (left > 0) active.set(key, left)
        else active.delete(key)
      }
      return { allowed: true, limit, active: taken + 1, release }
    },
    close: () => active.clear(),
  }
}

/** How long a slot outlives its last renewal: a replica that dies frees its slots within this. */
const LEASE_MS = 30_000

/** Lease expiry on Redis's clock (the replicas' clocks differ): TIME plus ARGV[1] ms. */
const EXPIRY = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiry = now + tonumber(ARGV[1])
`

/**
 * Takes a slot, in one script Redis runs alone, so N+k concurrent requests on any number of
 * replicas let exactly N in. KEYS[1] the key's slots (a sorted set: slot id → lease expiry);
 * ARGV lease (ms), limit, the new slot's id. Returns { allowed (1|0), slots in use after }.
 * The set expires with its longest lease.
 */
const ACQUIRE = `${EXPIRY}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local taken = redis.call('ZCARD', KEYS[1])
if taken >= tonumber(ARGV[2]) then return { 0, taken } end
redis.call('ZADD', KEYS[1], expiry, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return { 1, taken + 1 }
`

/**
 * Extends the leases of slots still held: KEYS[i] holds slot ARGV[i + 1]; ARGV[1] the lease.
 * A slot whose lease already ran out (Redis was lost for longer) is not taken back (XX): its
 * place may have been given to another request since. No lease in a set ends later than this
 * renewal's, so the set may expire with it.
 */
const RENEW = `${EXPIRY}
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', expiry, ARGV[i + 1])
  redis.call('PEXPIRE', key, ARGV[1])
end
`

/** Frees slots: KEYS[i] holds slot ARGV[i]. */
const RELEASE = `
for i, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[i]) end
`

/** A set of slots, slot id → the key that holds it. */
type Slots = Map<string, string>

/**
 * Caps shared by every replica on REDIS_URL: a slot per request in progress, held on a lease
 * that one timer renews for all of this replica's slots in one command, so the slots of a
 * replica that dies free themselves within a lease (`leaseMs`). While Redis cannot be reached,
 * REDIS_FAILURE decides (shared/fallback.ts): `local` counts in `local`, this replica's memory,
 * until Redis is back; `closed` refuses with 503. A slot taken on Redis and given back while
 * Redis was lost is freed there as soon as Redis is back (its lease would free it later anyway).
 */
export function redisConcurrencyLimiter(
  link: RedisLink,
  failure: RedisSettings['failure'],
  { leaseMs = LEASE_MS, local = memoryConcurrencyLimiter() }: { leaseMs?: number; local?: ConcurrencyLimiter } = {},
): ConcurrencyLimiter {
  const slotId = uniqueIds()
  /** This replica's slots on Redis, for requests in progress. */
  const held: Slots = new Map()
  /** Slots given back while Redis could not be told. */
  const unreleased: Slots = new Map()

  const run = (script: string, slots: Slots, args: (string | number)[]) => link.script(script, [...slots.values()], [...args, ...slots.keys()])

  const tick = () => {
    if (!link.up) return
    if (held.size) run(RENEW, held, [leaseMs]).catch(() => {})
    if (unreleased.size) {
      const freeing = new Map(unreleased)
      unreleased.clear()
      run(RELEASE, freeing, []).catch(() => freeing.forEach((key, slot) => unreleased.set(slot, key)))
    }
  }
  const timer = setInterval(tick, leaseMs / 3)
  timer.unref?.()
  link.onChange((up) => up && tick())

  const acquireShared = async (key: string, limit: number): Promise<Admission> => {
    const slots = link.key(`concurrency:${key}`)
    const slot = slotId()
    const [allowed, active] = (await link.script(ACQUIRE, [slots], [leaseMs, limit, slot])) as number[]
    if (allowed !== 1) return { allowed: false, limit, active: active!, release: nothingToRelease }
    held.set(slot, slots)
    let released = false
    const release = async () => {
      if (released) return
      released = true
      held.delete(slot)
      const freed = link.up && (await link.send('ZREM', [slots, slot]).then(() => true, () => false))
      if (!freed) unreleased.set(slot, slots)
    }
    return { allowed: true, limit, active: active!, release }
  }

  return {
    acquire: (key, limit) => sharedOrLocal(link, failure, () => acquireShared(key, limit), () => local.acquire(key, limit)),
    close() {
      clearInterval(timer)
      local.close()
    },
  }
}
