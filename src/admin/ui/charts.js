// Chart.js (loaded as a classic script, window.Chart) set up once for the admin's charts:
// shared colours, no animation for people who ask for reduced motion, and a text fallback.
import { h } from './dom.js'

export const colors = {
  success: '#15803d',
  error: '#dc2626',
  primary: '#2563eb',
  accent: '#7c3aed',
  amber: '#d97706',
  series: ['#2563eb', '#7c3aed', '#0891b2', '#d97706', '#db2777', '#15803d', '#64748b', '#dc2626', '#4f46e5', '#0d9488'],
}

let configured = false

function library() {
  const { Chart } = window
  if (!Chart) throw new Error('The chart library did not load.')
  if (!configured) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily
    Chart.defaults.color = '#334155'
    Chart.defaults.maintainAspectRatio = false
    if (matchMedia('(prefers-reduced-motion: reduce)').matches) Chart.defaults.animation = false
    configured = true
  }
  return Chart
}

/**
 * A chart card: a titled figure whose canvas describes itself to screen readers.
 * `config` is a Chart.js configuration; returns the card and the Chart instance.
 */
export function chartCard(title, description, config) {
  const Chart = library()
  const canvas = h('canvas', { role: 'img', 'aria-label': `${title}: ${description}` }, description)
  const card = h('figure', { class: 'card chart-card' }, h('figcaption', {}, title), h('div', { class: 'chart-box' }, canvas))
  return { card, chart: new Chart(canvas, config) }
}

/** A cost in a tooltip: cents, or more decimals for the fractions of a cent that local models cost. */
const money = (value) => `$${Number(value).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`

/**
 * A cost-axis label with as many decimals as the step between ticks needs, so that no two labels
 * read the same (fixed cents made every tick of an axis below one cent "$0.00"): whole dollars
 * when the step is whole, else at least cents. Chart.js calls it with the axis's ticks.
 */
export function moneyTick(value, index, ticks) {
  // Like Chart.js's own formatter: the second step, since the first may be cut short by the axis's minimum.
  const step = Math.abs(ticks.length > 2 ? ticks[2].value - ticks[1].value : ticks.length > 1 ? ticks[1].value - ticks[0].value : value)
  let decimals = Number.isInteger(step) ? 0 : 2
  // The fewest decimals that write the step exactly (0.025 needs 3), with room for float noise (0.00099999…).
  while (decimals < 10 && Math.abs(Math.round(step * 10 ** decimals) / 10 ** decimals - step) > step * 1e-6) decimals++
  return `$${value.toLocaleString(undefined, { minimumFractionDigits: decimals, maximumFractionDigits: decimals })}`
}

/**
 * A chart over time: stacked bars for several series, else a line. A null point is a bucket
 * without data, drawn as a gap in the line (spanGaps off), never as a zero.
 */
export const timeSeries = (labels, datasets, { stacked = false, yTitle, currency = false } = {}) => ({
  type: datasets.length > 1 || stacked ? 'bar' : 'line',
  data: { labels, datasets: datasets.map((dataset) => ({ spanGaps: false, ...dataset })) },
  options: {
    interaction: { mode: 'index', intersect: false },
    plugins: {
      legend: { display: datasets.length > 1 },
      tooltip: currency ? { callbacks: { label: (item) => `${item.dataset.label}: ${money(item.parsed.y)}` } } : {},
    },
    scales: {
      x: { stacked, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
      y: { stacked, beginAtZero: true, title: { display: Boolean(yTitle), text: yTitle }, ticks: currency ? { callback: moneyTick } : {} },
    },
  },
})

export const ranking = (labels, label, values, color = colors.primary) => ({
  type: 'bar',
  data: { labels, datasets: [{ label, data: values, backgroundColor: color, maxBarThickness: 28 }] },
  options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } },
})

export const shares = (labels, values) => ({
  type: 'doughnut',
  data: { labels, datasets: [{ data: values, backgroundColor: colors.series }] },
  options: { plugins: { legend: { position: matchMedia('(max-width: 720px)').matches ? 'bottom' : 'right' } } },
})
