// Turns security-relevant events into threat rows. Each kind of event is counted per key
// (an address, an account, a principal) in a sliding window; crossing a threshold records a
// threat whose severity grows with the count. A key gets one row per quiet period unless its
// severity rises, so a flood of events does not become a flood of rows. The counts live in a
// ThreatCounter (./counter.ts): this replica's memory, or Redis shared by every replica.
import { MINUTE } from '../http/dates'
import { SlidingCounter } from '../http/sliding-window'
import { memoryCounter, type Awaitable, type Levels, type Release, type ThreatCounter } from './counter'
import { SEVERITIES, type Severity, type ThreatInput, type ThreatStore, type ThreatType } from './store'

type Policy = { windowMs: number; thresholds: [count: number, severity: Severity][] }

export const policies: Record<ThreatType, Policy> = {
  rate_limit: { windowMs: 60 * MINUTE, thresholds: [[1, 'low'], [3, 'medium'], [10, 'high'], [30, 'critical']] },
  brute_force: { windowMs: 15 * MINUTE, thresholds: [[5, 'high'], [20, 'critical']] },
  invalid_token: { windowMs: 10 * MINUTE, thresholds: [[1, 'low'], [5, 'medium'], [20, 'high']] },
  suspicious_content: { windowMs: 10 * MINUTE, thresholds: [[1, 'medium'], [5, 'high']] },
  oversized_payload: { windowMs: 5 * MINUTE, thresholds: [[3, 'medium'], [10, 'high']] },
  malformed_flood: { windowMs: MINUTE, thresholds: [[20, 'medium'], [100, 'high']] },
}

/** Each policy's thresholds as the counter takes them: a severity's rank is its place in SEVERITIES. */
const levels = Object.fromEntries(
  Object.entries(policies).map(([type, policy]) => [type, policy.thresholds.map(([count, severity]) => [count, SEVERITIES.indexOf(severity)])]),
) as Record<ThreatType, Levels>

/** The count past which more events change nothing. */
const highest = (policy: Policy) => policy.thresholds.at(-1)![0]

/** The monitor's counter, counts capped at a policy's highest threshold (tests make their own). */
export { SlidingCounter }

export type ThreatEvent = Omit<ThreatInput, 'severity'> & { key: string; severity?: Severity }

export function threatMonitor(store: Pick<ThreatStore, 'record'>, counter: ThreatCounter = memoryCounter(), now: () => number = Date.now) {
  const name = (type: ThreatType, key: string) => `${type}|${key}`
  const counting = new Set<Promise<unknown>>()

  /**
   * Work whose callers mostly do not wait for it (an event reported on the way to an answer):
   * it never rejects — a failure is said on stderr — and closing waits for it, before Redis
   * closes. In memory it is done before this returns.
   */
  function unfailing<R>(what: string, otherwise: R, work: () => Awaitable<R>): Promise<R> {
    const done = (async () => {
      try {
        return await work()
      } catch (error) {
        console.error(`threats: could not ${what}:`, (error as Error).message)
        return otherwise
      }
    })()
    counting.add(done)
    void done.finally(() => counting.delete(done))
    return done
  }

  async function countAndRecord(event: ThreatEvent): Promise<number> {
    const policy = policies[event.type]
    const floor = event.severity ? SEVERITIES.indexOf(event.severity) : -1
    const { count, record } = await counter.addAndJudge(name(event.type, event.key), policy.windowMs, levels[event.type], floor)
    if (record === undefined) return count
    const severity = SEVERITIES[record]!
    const most = count >= highest(policy) ? `${count} or more` : String(count)
    const detail = `${event.detail} (${most} in ${policy.windowMs / MINUTE} min)`
    // Written off the request path: the store keeps and retries it while the database is busy.
    store.record({ ...event, severity, detail }, now())
    return count
  }

  return {
    /** Counts one event; records a threat when the count crosses a threshold. The count (0 if it could not be counted). */
    observe: (event: ThreatEvent) => unfailing(`count a ${event.type} event`, 0, () => countAndRecord(event)),
    /** Counts an event without ever recording a threat for it (keys used only to throttle). */
    tally: (type: ThreatType, key: string) =>
      unfailing(`count a ${type} event`, 0, () => counter.add(name(type, key), policies[type].windowMs, highest(policies[type]))),
    /** How many events of this type the key has in its window now. */
    count: (type: ThreatType, key: string): Awaitable<number> => counter.count(name(type, key), policies[type].windowMs),
    /**
     * Holds a place on every key for an event being decided (counted like one), unless a key
     * already has `limit` events and places: how to let go, or undefined when refused.
     */
    hold: (type: ThreatType, keys: string[], limit: number): Awaitable<Release | undefined> =>
      counter.hold(
        keys.map((key) => name(type, key)),
        policies[type].windowMs,
        limit,
      ),
    /** Forgets the keys' events (a sign-in succeeded). */
    forget: (type: ThreatType, keys: string[]) =>
      unfailing(`forget ${type} events`, undefined, () => counter.forget(keys.map((key) => name(type, key)))),
    /** Forgets every key of the type that `matches` (given the key without its type). */
    forgetWhere: (type: ThreatType, matches: (key: string) => boolean) => counter.forgetWhere(name(type, ''), matches),
    async close() {
      await Promise.all(counting)
      counter.close()
    },
  }
}

export type ThreatMonitor = ReturnType<typeof threatMonitor>
