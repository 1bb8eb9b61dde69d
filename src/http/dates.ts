// Dates as the API reads them. Date.parse rolls impossible days over (2025-02-30 becomes
// 2 March), so the calendar day is checked as well: NaN for anything that is not a real date.

export function parseDate(value: string): number {
  const time = Date.parse(value)
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(value)
  if (Number.isNaN(time) || !day) return NaN
  const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])]
  const real = new Date(Date.UTC(year, month - 1, date))
  return real.getUTCFullYear() === year && real.getUTCMonth() === month - 1 && real.getUTCDate() === date ? time : NaN
}
