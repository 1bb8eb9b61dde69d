// Turns the dashboard's `range` (and `start`/`end` for custom) into the window it reads:
// 24h = the last 24 hours in hourly buckets; 7d, 1m, 3m = the last 7, 30, 90 UTC days in
// daily buckets; custom = [start, end) widened to whole hours, in daily buckets.
import { ceilTo, DAY, floorTo, HOUR, parseDate } from '../http/dates'
import { HttpError } from '../http/errors'

export const rangeNames = ['24h', '7d', '1m', '3m', 'custom'] as const
export type RangeName = (typeof rangeNames)[number]

export type Window = {
  range: RangeName
  /** First and past-the-last millisecond read. */
  from: number
  to: number
  /** The width of the buckets returned. */
  step: number
}

const days: Record<string, number> = { '7d': 7, '1m': 30, '3m': 90 }
const maxSpan = 366 * DAY
const isoDate = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/

const invalid = (message: string, param: string) => new HttpError(400, message, { param, code: 'invalid_value' })

function parseBound(name: 'start' | 'end', value: string | undefined): number {
  if (!value) throw invalid(`A custom range needs both 'start' and 'end' as ISO 8601 dates; '${name}' is missing`, name)
  const match = isoDate.exec(value)
  // A date-time without an offset is read as UTC, like a plain date.
  const time = match ? parseDate(value.includes('T') && !match[1] ? `${value}Z` : value) : NaN
  if (Number.isNaN(time)) throw invalid(`'${name}' must be an ISO 8601 date or date-time`, name)
  return time
}

export function resolveWindow(query: { range?: RangeName; start?: string; end?: string }, now = Date.now()): Window {
  const range = query.range ?? '24h'
  if (range === '24h') {
    const to = floorTo(now, HOUR) + HOUR
    return { range, from: to - 24 * HOUR, to, step: HOUR }
  }
  if (range !== 'custom') {
    const to = floorTo(now, DAY) + DAY
    return { range, from: to - days[range]! * DAY, to, step: DAY }
  }
  const start = parseBound('start', query.start)
  const end = parseBound('end', query.end)
  if (start >= end) throw invalid(`'start' must be before 'end'`, 'start')
  if (end - start > maxSpan) throw invalid('A custom range may span at most one year (366 days)', 'end')
  const from = floorTo(start, HOUR)
  const to = ceilTo(end, HOUR)
  return { range, from, to, step: DAY }
}

/** The start of every bucket of the window, so that empty buckets show as zeros. */
export function bucketsOf(window: Window): number[] {
  const buckets: number[] = []
  for (let time = floorTo(window.from, window.step); time < window.to; time += window.step) buckets.push(time)
  return buckets
}
