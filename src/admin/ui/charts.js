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

const money = (value) => `$${Number(value).toFixed(2)}`

export const timeSeries = (labels, datasets, { stacked = false, yTitle, currency = false } = {}) => ({
  type: datasets.length > 1 || stacked ? 'bar' : 'line',
  data: { labels, datasets },
  options: {
    interaction: { mode: 'index', intersect: false },
    plugins: {
      legend: { display: datasets.length > 1 },
      tooltip: currency ? { callbacks: { label: (item) => `${item.dataset.label}: ${money(item.parsed.y)}` } } : {},
    },
    scales: {
      x: { stacked, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
      y: { stacked, beginAtZero: true, title: { display: Boolean(yTitle), text: yTitle }, ticks: currency ? { callback: money } : {} },
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
