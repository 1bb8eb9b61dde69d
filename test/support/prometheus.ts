// Reads a /metrics scrape the way Prometheus would: prom2javascript (an npm parser of the text
// format) parses it, after the checks Prometheus makes that the parser leaves out — names, one
// TYPE per family, no series twice, cumulative buckets. Then sums series by the labels a test names.
import { getMetricsFromIterator, type PromHistogramData, type PromMetrics } from 'prom2javascript'
import { expect } from 'bun:test'

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export type Scrape = PromMetrics

export async function parseScrape(text: string): Promise<Scrape> {
  const typed = new Set<string>()
  const seen = new Set<string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (type) {
      expect(NAME.test(type[1]!)).toBe(true)
      expect(typed.has(type[1]!)).toBe(false)
      typed.add(type[1]!)
      continue
    }
    if (line === '' || line.startsWith('#')) continue
    const sample = /^([^{ ]+)(\{.*\})? (\S+)$/.exec(line)
    expect(sample).not.toBeNull()
    expect(NAME.test(sample![1]!)).toBe(true)
    for (const [, label] of (sample![2] ?? '').matchAll(/([^{,=]+)="(?:[^"\\]|\\.)*"/g)) expect(LABEL.test(label!)).toBe(true)
    expect(seen.has(`${sample![1]}${sample![2] ?? ''}`)).toBe(false)
    seen.add(`${sample![1]}${sample![2] ?? ''}`)
  }
  const scrape = await getMetricsFromIterator(text.split('\n')[Symbol.iterator]())
  for (const metric of Object.values(scrape))
    if (metric.type === 'histogram')
      for (const series of metric.data as PromHistogramData[]) {
        const counts = Object.entries(series.buckets).sort(([a], [b]) => (a === '+Inf' ? 1 : b === '+Inf' ? -1 : Number(a) - Number(b))).map(([, n]) => n)
        expect(counts).toEqual([...counts].sort((a, b) => a - b))
      }
  return scrape
}

const matches = (labels: Record<string, string>, wanted: Record<string, string>) => Object.entries(wanted).every(([name, value]) => labels[name] === value)

/** The series of `name` whose labels include `wanted`. */
export function seriesOf(scrape: Scrape, name: string, wanted: Record<string, string> = {}) {
  return (scrape[name]?.data ?? []).filter((series) => matches(series.labels, wanted))
}

/** A counter's or gauge's value summed over the matching series; a histogram's count (`sum` with `of: 'sum'`). */
export function total(scrape: Scrape, name: string, wanted: Record<string, string> = {}, of: 'count' | 'sum' = 'count'): number {
  return seriesOf(scrape, name, wanted).reduce((sum, series) => {
    if ('buckets' in series) return sum + (of === 'sum' ? (series.sum ?? 0) : series.count)
    return sum + (series as { value: number }).value
  }, 0)
}
