// The response cache in Redis, shared by every replica: one GET per lookup, one `SET key value
// PX ttl` per answer stored, keys under REDIS_PREFIX (`cache:<sha-256>`). Redis's own maxmemory
// policy bounds it (an LRU policy such as allkeys-lru evicts entries; with noeviction a full
// Redis refuses them, and answers are then simply not stored). A cache is never worth failing a
// request for: while Redis is down (REDIS_FAILURE notwithstanding) every lookup misses and
// nothing is stored; the link says so once, and this store says once what Redis refused.
import { unreachable, type RedisLink } from '../shared/redis'
import type { CacheStore } from './store'

/** Distinct refusals said on stderr at most (each once), so that a full Redis cannot flood it. */
const MAX_SAID = 20

export function redisStore(link: RedisLink): CacheStore {
  const said = new Set<string>()
  /** Runs a command while Redis is up; any failure is a miss. */
  const quietly = async (what: string, command: string, args: string[]) => {
    if (!link.up) return undefined
    try {
      return await link.send(command, args)
    } catch (error) {
      const message = (error as Error).message
      if (!unreachable(error) && said.size < MAX_SAID && !said.has(message)) {
        said.add(message)
        console.error(`response cache: Redis refused to ${what} (${message}); answering without it`)
      }
      return undefined
    }
  }
  const keyOf = (key: string) => link.key(`cache:${key}`)

  return {
    async get(key) {
      const value = await quietly('read an entry', 'GET', [keyOf(key)])
      return typeof value === 'string' ? value : undefined
    },
    async set(key, value, ttlMs) {
      await quietly('store an entry', 'SET', [keyOf(key), value, 'PX', String(ttlMs)])
    },
    // The link is the runtime's, closed with it.
    close() {},
  }
}
