// What the threat monitor remembers between requests, behind one interface: events counted per
// key in a sliding window, places held for events still being decided (a password being
// checked), and which threats were recorded lately. This file keeps it in the replica's memory;
// ./redis-counter.ts keeps it in Redis, so that replicas count together (REDIS_URL).
import { MINUTE } from '../http/dates'
import { SlidingCounter } from '../http/sliding-window'

/** The memory implementation answers at once; Redis answers later. */
export type Awaitable<T> = T | Promise<T>

/** Counts at which a threat's rank rises, lowest first: [count, rank]. */
export type Levels = [count: number, rank: number][]

/** Lets go of the places a `hold` took. */
export type Release = () => Awaitable<void>

export interface ThreatCounter {
  /** Counts one event for the key, remembering at most `cap` of them in the window; the count after. */
  add(key: string, windowMs: number, cap: number): Awaitable<number>
  /** How many events the key has in the window now. */
  count(key: string, windowMs: number): Awaitable<number>
  /**
   * Holds a place on every key for an event being decided, unless a key's count plus the places
   * held on it already reaches `limit` (checked and held in one step): how to let go, or
   * undefined when refused.
   */
  hold(keys: string[], windowMs: number, limit: number): Awaitable<Release | undefined>
  /**
   * Counts one event as `add` does (capped at the last level's count) and judges it in the same
   * step: the rank of the threat to record now — that of the highest level the count reached,
   * or `floor` if graver — unless a threat of that rank or a graver one was recorded for the key
   * within the window (then, or when no level is reached, `record` is undefined). One step, so
   * that of events seen together on several replicas exactly one records each rank.
   */
  addAndJudge(key: string, windowMs: number, levels: Levels, floor: number): Awaitable<{ count: number; record?: number }>
  forget(keys: string[]): Awaitable<void>
  /** Forgets the keys that start with `prefix` and whose rest `matches`. */
  forgetWhere(prefix: string, matches: (rest: string) => boolean): Awaitable<void>
  close(): void
}

/** Keys (and recorded threats) held at most: events from ever new addresses must not grow memory without bound. */
const MAX_TRACKED_KEYS = 100_000
/** No policy's window is longer. */
const LONGEST_WINDOW_MS = 60 * MINUTE

/** The replica's own memory: counts in a SlidingCounter, a bounded number of keys. */
export function memoryCounter(now: () => number = Date.now): ThreatCounter {
  const counter = new SlidingCounter(now, MAX_TRACKED_KEYS)
  const held = new Map<string, number>()
  const recorded = new Map<string, { rank: number; until: number }>()
  const sweep = setInterval(() => {
    counter.sweep(LONGEST_WINDOW_MS)
    for (const [key, last] of recorded) if (last.until <= now()) recorded.delete(key)
  }, MINUTE)
  sweep.unref?.()

  return {
    add: (key, windowMs, cap) => counter.add(key, windowMs, cap),
    count: (key, windowMs) => counter.count(key, windowMs),
    hold(keys, windowMs, limit) {
      if (keys.some((key) => counter.count(key, windowMs) + (held.get(key) ?? 0) >= limit)) return undefined
      for (const key of keys) held.set(key, (held.get(key) ?? 0) + 1)
      return () => {
        for (const key of keys) {
          const left = held.get(key)! - 1
          if (left) held.set(key, left)
          else held.delete(key)
        }
      }
    },
    addAndJudge(key, windowMs, levels, floor) {
      const count = counter.add(key, windowMs, levels.at(-1)![0])
      let rank = floor
      for (const [reached, level] of levels) if (count >= reached && level > rank) rank = level
      const last = recorded.get(key)
      if (rank < 0 || (last && last.until > now() && rank <= last.rank)) return { count }
      if (!last && recorded.size >= MAX_TRACKED_KEYS) recorded.delete(recorded.keys().next().value!)
      recorded.set(key, { rank, until: now() + windowMs })
      return { count, record: rank }
    },
    forget: (keys) => keys.forEach((key) => counter.forget(key)),
    forgetWhere: (prefix, matches) => counter.forgetWhere((key) => key.startsWith(prefix) && matches(key.slice(prefix.length))),
    close: () => clearInterval(sweep),
  }
}
