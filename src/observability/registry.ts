// A small Prometheus registry, written here rather than taken from prom-client so that the hot
// path does no more than it must: a series is made once per label set (its label text rendered
// then) and the caller keeps it, so recording is an addition or a bucket search, with no label
// object hashed per request. Gauges are not recorded at all: they are read when scraped.
// The output is the text exposition format 0.0.4 (what Prometheus and OpenMetrics parsers read).

/** A label value as the format quotes it: backslash, double quote and newline escaped. */
const escapeValue = (value: string) => value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
const escapeHelp = (help: string) => help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))

/** `a="x",b="y"` for the label names and values (empty without labels). */
function labelText(names: readonly string[], values: readonly string[]): string {
  return names.map((name, i) => `${name}="${escapeValue(values[i] ?? '')}"`).join(',')
}

/** Numbers as the format writes them: +Inf, -Inf, NaN, else JavaScript's shortest form. */
function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return Number.isNaN(value) ? 'NaN' : String(value)
}

const braced = (labels: string) => (labels ? `{${labels}}` : '')

export class CounterSeries {
  value = 0
  constructor(readonly labels: string) {}
  inc(by = 1) {
    this.value += by
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(
    readonly labels: string,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1)
  }
  observe(value: number) {
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    this.counts[i]!++
    this.sum += value
    this.count++
  }
}

type Family<S> = { name: string; help: string; labelNames: readonly string[]; series: Map<string, S> }

/** Reads a gauge's current values when scraped: each with its label values. */
export type GaugeReading = readonly (readonly [labelValues: readonly string[], value: number])[]

type GaugeFamily = { name: string; help: string; labelNames: readonly string[]; read: () => GaugeReading | Promise<GaugeReading> }

export class Registry {
  private readonly counters: Family<CounterSeries>[] = []
  private readonly histograms: (Family<HistogramSeries> & { bounds: readonly number[] })[] = []
  private readonly gauges: GaugeFamily[] = []

  /** A counter; `series(...values)` gives the series of a label set (made on first use: keep it). */
  counter(name: string, help: string, labelNames: readonly string[] = []) {
    const family: Family<CounterSeries> = { name, help, labelNames, series: new Map() }
    this.counters.push(family)
    return {
      series: (...values: string[]) => seriesOf(family, values, (labels) => new CounterSeries(labels)),
    }
  }

  histogram(name: string, help: string, bounds: readonly number[], labelNames: readonly string[] = []) {
    const family = { name, help, labelNames, bounds, series: new Map<string, HistogramSeries>() }
    this.histograms.push(family)
    return {
      series: (...values: string[]) => seriesOf(family, values, (labels) => new HistogramSeries(labels, bounds)),
    }
  }

  /** A gauge read at scrape time (a failing read leaves it out of that scrape); a later one of the same name replaces it. */
  gauge(name: string, help: string, labelNames: readonly string[], read: GaugeFamily['read']) {
    const gauge = { name, help, labelNames, read }
    const known = this.gauges.findIndex((g) => g.name === name)
    if (known >= 0) this.gauges[known] = gauge
    else this.gauges.push(gauge)
  }

  /** Every family in the text exposition format. */
  async exposition(): Promise<string> {
    const out: string[] = []
    for (const family of this.counters) {
      out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} counter`)
      for (const s of family.series.values()) out.push(`${family.name}${braced(s.labels)} ${formatNumber(s.value)}`)
    }
    for (const family of this.histograms) {
      out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} histogram`)
      const les = [...family.bounds.map(formatNumber), '+Inf'].map((le) => `le="${le}"`)
      for (const s of family.series.values()) {
        const prefix = s.labels ? `${s.labels},` : ''
        let cumulative = 0
        les.forEach((le, i) => {
          cumulative += s.counts[i]!
          out.push(`${family.name}_bucket{${prefix}${le}} ${cumulative}`)
        })
        out.push(`${family.name}_sum${braced(s.labels)} ${formatNumber(s.sum)}`, `${family.name}_count${braced(s.labels)} ${s.count}`)
      }
    }
    const readings = await Promise.all(this.gauges.map((gauge) => Promise.resolve().then(gauge.read).catch(() => undefined)))
    this.gauges.forEach((gauge, i) => {
      const reading = readings[i]
      if (!reading) return
      out.push(`# HELP ${gauge.name} ${escapeHelp(gauge.help)}`, `# TYPE ${gauge.name} gauge`)
      for (const [values, value] of reading) out.push(`${gauge.name}${braced(labelText(gauge.labelNames, values))} ${formatNumber(value)}`)
    })
    return out.join('\n') + '\n'
  }
}

function seriesOf<S>(family: Family<S>, values: string[], make: (labels: string) => S): S {
  if (values.length !== family.labelNames.length) throw new Error(`${family.name}: expected ${family.labelNames.length} label values`)
  const labels = labelText(family.labelNames, values)
  let series = family.series.get(labels)
  if (!series) family.series.set(labels, (series = make(labels)))
  return series
}
