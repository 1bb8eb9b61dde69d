// Where the response cache keeps its entries, behind one interface: in this process's memory
// (./memory-store.ts, a bounded LRU) without Redis, or in Redis (./redis-store.ts), shared by
// every replica, with it. Chosen per runtime in ./index.ts, as the rate limiter is.

export interface CacheStore {
  /** The entry stored under `key`, unless it expired or was evicted. */
  get(key: string): Promise<string | undefined>
  /** Stores an entry for `ttlMs`; never rejects (a store that cannot keep it leaves it out). */
  set(key: string, value: string, ttlMs: number): Promise<void>
  close(): void
}

/**
 * The largest entry stored (the JSON of one answer): far above MAX_OUTPUT_TOKENS' default worth
 * of text, and small enough that no single entry crowds Redis or the memory LRU.
 */
export const MAX_ENTRY_BYTES = 1024 * 1024
