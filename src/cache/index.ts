// The response cache (CACHE_TTL_SECONDS, off at 0): an exact-match cache of chat completions.
// A request is looked up by its key (./key.ts: the user, or everyone with CACHE_SCOPE=global, and
// every field that reaches the model); a hit is answered from the stored answer without calling
// Ollama, a miss is answered by Ollama and its answer stored once it is complete and successful.
// The request's `Cache-Control: no-cache` skips reading the cache, `no-store` reading and
// writing it. With the cache on, every chat completion that gets this far says `X-Cache: HIT`
// or `MISS` (a request that skipped the cache is a MISS: it was not served from it).
// Storage: a bounded LRU in memory without REDIS_URL, Redis with it (./store.ts).
import { metricsOf } from '../observability/metrics'
import { perRuntime, type Runtime } from '../runtime'
import { redisOf } from '../shared/redis'
import { parseEntry, type CachedCompletion } from './entry'
import { cacheKey, type Keyed } from './key'
import { memoryStore } from './memory-store'
import { redisStore } from './redis-store'
import { MAX_ENTRY_BYTES, type CacheStore } from './store'

export type { CachedCompletion, CachedToolCall } from './entry'

/** The runtime's store: Redis when there is one, else this process's memory. */
export const cacheStoreOf = perRuntime((rt): CacheStore => {
  const link = redisOf(rt)
  return link ? redisStore(link) : memoryStore(rt.config.cache.maxBytes)
})

export type Lookup = {
  /** The stored answer, when the request is a hit. */
  hit?: CachedCompletion
  /** Stores the answer of a miss (call it only for a complete, successful answer); does nothing when the request may not be stored. */
  keep(answer: CachedCompletion): void
}

const nothingToKeep: Lookup = { keep() {} }

/** What the request's Cache-Control allows: `no-cache` skips reading the cache, `no-store` reading and writing it. */
function allowedBy(headers: Headers) {
  const directives = (headers.get('cache-control') ?? '').toLowerCase().split(',').map((directive) => directive.trim())
  const noStore = directives.includes('no-store')
  return { read: !noStore && !directives.includes('no-cache'), write: !noStore }
}

/**
 * Looks the chat request up for the user it is made by, and sets `X-Cache` in `headersOut`
 * (nothing while the cache is off). A store that cannot be reached is a miss.
 */
export async function lookUp(rt: Runtime, request: Request, body: Keyed, userId: string, headersOut: Record<string, unknown>): Promise<Lookup> {
  const { ttlSeconds, scope } = rt.config.cache
  if (!ttlSeconds) return nothingToKeep
  headersOut['x-cache'] = 'MISS'
  const key = cacheKey(scope === 'global' ? 'global' : `user:${userId}`, body, rt.config.maxOutputTokens)
  const { read, write } = allowedBy(request.headers)
  const store = cacheStoreOf(rt)
  const stored = read ? await store.get(key) : undefined
  const hit = stored === undefined ? undefined : parseEntry(stored)
  metricsOf(rt)?.cacheLookup(hit !== undefined)
  if (hit) {
    headersOut['x-cache'] = 'HIT'
    return { hit, keep() {} }
  }
  if (!write) return nothingToKeep
  return {
    keep(answer) {
      const value = JSON.stringify(answer)
      if (Buffer.byteLength(value) <= MAX_ENTRY_BYTES) void store.set(key, value, ttlSeconds * 1000)
    },
  }
}
