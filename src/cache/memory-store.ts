// The response cache in this process's memory, without Redis: a least-recently-used map bounded
// by CACHE_MAX_MB. An entry's size is the UTF-8 bytes of its key and its JSON; the JavaScript
// objects around them (tens of bytes an entry) are not counted. Expired entries go when they
// are next read, or as the least recently used when room is needed.
import type { CacheStore } from './store'

type Entry = { value: string; size: number; expiresAt: number }

export type MemoryStore = CacheStore & {
  /** Bytes held now (keys and values). */
  readonly bytes: number
}

export function memoryStore(maxBytes: number, now: () => number = Date.now): MemoryStore {
  // A Map iterates in insertion order: re-inserting an entry on each read keeps the least recently used first.
  const entries = new Map<string, Entry>()
  let bytes = 0
  const remove = (key: string, entry: Entry) => {
    entries.delete(key)
    bytes -= entry.size
  }
  const insert = (key: string, entry: Entry) => {
    entries.set(key, entry)
    bytes += entry.size
  }

  return {
    get bytes() {
      return bytes
    },
    async get(key) {
      const entry = entries.get(key)
      if (!entry) return undefined
      remove(key, entry)
      if (entry.expiresAt <= now()) return undefined
      insert(key, entry)
      return entry.value
    },
    async set(key, value, ttlMs) {
      const size = Buffer.byteLength(key) + Buffer.byteLength(value)
      const known = entries.get(key)
      if (known) remove(key, known)
      if (size > maxBytes) return
      for (const [oldest, entry] of entries) {
        if (bytes + size <= maxBytes) break
        remove(oldest, entry)
      }
      insert(key, { value, size, expiresAt: now() + ttlMs })
    },
    close() {
      entries.clear()
      bytes = 0
    },
  }
}
