// Turns security-relevant events into threat rows. Each kind of event is counted per key
// (an address, an account, a principal) in a sliding window; crossing a threshold records a
// threat whose severity grows with the count. A key gets one row per quiet period unless its
// severity rises, so a flood of events does not become a flood of rows.
import { MINUTE } from '../http/dates'
import { SlidingCounter } from '../http/sliding-window'
import type { Severity, ThreatInput, ThreatStore, ThreatType } from './store'

type Policy = { windowMs: number; thresholds: [count: number, severity: Severity][] }

export const policies: Record<ThreatType, Policy> = {
  rate_limit: { windowMs: 60 * MINUTE, thresholds: [[1, 'low'], [3, 'medium'], [10, 'high'], [30, 'critical']] },
  brute_force: { windowMs: 15 * MINUTE, thresholds: [[5, 'high'], [20, 'critical']] },
  invalid_token: { windowMs: 10 * MINUTE, thresholds: [[1, 'low'], [5, 'medium'], [20, 'high']] },
  suspicious_content: { windowMs: 10 * MINUTE, thresholds: [[1, 'medium'], [5, 'high']] },
  oversized_payload: { windowMs: 5 * MINUTE, thresholds: [[3, 'medium'], [10, 'high']] },
  malformed_flood: { windowMs: MINUTE, thresholds: [[20, 'medium'], [100, 'high']] },
}

const rank: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 }

/** The count past which more events change nothing. */
const highest = (policy: Policy) => policy.thresholds.at(-1)![0]

/** Counter keys (and recorded threats) held at most: events from ever new addresses must not grow memory without bound. */
const MAX_TRACKED_KEYS = 100_000

/** The monitor's counter, counts capped at a policy's highest threshold (tests make their own). */
export { SlidingCounter }

export type ThreatEvent = Omit<ThreatInput, 'severity'> & { key: string; severity?: Severity }

export function threatMonitor(store: Pick<ThreatStore, 'record'>, now: () => number = Date.now) {
  const counter = new SlidingCounter(now, MAX_TRACKED_KEYS)
  const recorded = new Map<string, { severity: Severity; at: number }>()
  const sweep = setInterval(() => {
    counter.sweep(60 * MINUTE)
    for (const [key, last] of recorded) if (last.at + 60 * MINUTE <= now()) recorded.delete(key)
  }, MINUTE)
  sweep.unref?.()

  /** Counts one event of the type for the key, up to the policy's highest threshold. */
  const tally = (type: ThreatType, key: string) => counter.add(`${type}|${key}`, policies[type].windowMs, highest(policies[type]))

  /** Counts one event; records a threat when the count crosses a threshold. Returns the count. */
  function observe(event: ThreatEvent): number {
    const policy = policies[event.type]
    const key = `${event.type}|${event.key}`
    const count = tally(event.type, event.key)
    let severity: Severity | undefined
    for (const [threshold, level] of policy.thresholds) if (count >= threshold) severity = level
    if (event.severity && (!severity || rank[event.severity] > rank[severity])) severity = event.severity
    if (!severity) return count
    const last = recorded.get(key)
    const quiet = !last || last.at + policy.windowMs <= now()
    if (quiet || rank[severity] > rank[last.severity]) {
      if (!last && recorded.size >= MAX_TRACKED_KEYS) recorded.delete(recorded.keys().next().value!)
      recorded.set(key, { severity, at: now() })
      const most = count >= highest(policy) ? `${count} or more` : String(count)
      const detail = `${event.detail} (${most} in ${policy.windowMs / MINUTE} min)`
      // Written off the request path: the store keeps and retries it while the database is busy.
      store.record({ ...event, severity, detail }, now())
    }
    return count
  }

  return {
    observe,
    /** Counts an event without ever recording a threat for it (keys used only to throttle). */
    tally,
    /** How many events of this type the key has in its window now. */
    count: (type: ThreatType, key: string) => counter.count(`${type}|${key}`, policies[type].windowMs),
    forget: (type: ThreatType, key: string) => counter.forget(`${type}|${key}`),
    /** Forgets every key of the type that `matches` (given the key without its type). */
    forgetWhere: (type: ThreatType, matches: (key: string) => boolean) =>
      counter.forgetWhere((key) => key.startsWith(`${type}|`) && matches(key.slice(type.length + 1))),
    close: () => clearInterval(sweep),
  }
}

export type ThreatMonitor = ReturnType<typeof threatMonitor>
