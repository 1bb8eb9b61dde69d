// Time, the one way: the minute, hour and day in milliseconds, and the UTC buckets that the
// rollups and the dashboard count in. And dates as the API reads them: Date.parse rolls
// impossible days over (2025-02-30 becomes 2 March), so the calendar day is checked as well.

export const MINUTE = 60_000
export const HOUR = 3_600_000
export const DAY = 86_400_000

/** The start of the `step`-wide bucket that `time` falls in (buckets start at the epoch; earlier times too). */
export const floorTo = (time: number, step: number) => time - (((time % step) + step) % step)

/** The first bucket boundary at or after `time`. */
export const ceilTo = (time: number, step: number) => -floorTo(-time, step)

/** Milliseconds since the epoch; NaN for anything that is not a real date. */
export function parseDate(value: string): number {
  const time = Date.parse(value)
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(value)
  if (Number.isNaN(time) || !day) return NaN
  const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])]
  const real = new Date(Date.UTC(year, month - 1, date))
  return real.getUTCFullYear() === year && real.getUTCMonth() === month - 1 && real.getUTCDate() === date ? time : NaN
}
