// Overview: the dashboard API for a chosen range, as summary figures and charts.
import { api, query } from './api.js'
import { chartCard, colors, ranking, shares, timeSeries } from './charts.js'
import { errorBox, fmt, h, loading, pageHeader, show } from './dom.js'

const RANGES = [
  ['24h', '24 hours'],
  ['7d', '7 days'],
  ['1m', '1 month'],
  ['3m', '3 months'],
]

/** The dashboard's latency series is in seconds (its summary's average is in ms). */
const LATENCY_UNIT = 's'

const hour = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' })

/**
 * A series' values with a gap (null) at every bucket without requests: the API answers 0 there,
 * but no request means no latency or cost to show, not 0 s or $0. Buckets are matched by time.
 */
function withGaps(series, key, requests) {
  const traffic = new Map(requests.map((bucket) => [bucket.timestamp, bucket.success + bucket.error]))
  return series.map((point) => (traffic.get(point.timestamp) ? point[key] : null))
}

const drawnPoints = (values) => values.filter((value) => value !== null).length

const figure = (label, value, detail) =>
  h('div', { class: 'card figure' }, h('span', { class: 'figure-label' }, label), h('strong', {}, value), detail && h('span', { class: 'figure-detail' }, detail))

function figures(data) {
  const { summary, users, feedback, threats } = data
  return h(
    'section',
    { class: 'figures', 'aria-label': 'Summary' },
    figure('Requests', fmt.int(summary.totalRequests), `${fmt.percent(summary.successfulRequests, summary.totalRequests)} successful`),
    figure('Avg latency', fmt.ms(summary.avgLatencyMs)),
    figure('Cost', fmt.cost(summary.totalCost), `${fmt.cost(summary.avgCostPerRequest)} per request`),
    figure('Tokens', fmt.int(summary.totalTokens), `${fmt.num(summary.avgTokensPerRequest)} per request`),
    figure('Active users', fmt.int(users.activeUsers), `${fmt.int(users.totalSessions)} sessions`),
    figure('Per session', fmt.cost(users.avgSessionCost), `${fmt.num(users.avgSessionRequests)} requests`),
    figure('Feedback', feedback.totalFeedback ? `${fmt.num(feedback.avgRating)} / 5` : '—', `${fmt.int(feedback.totalFeedback)} ratings`),
    figure('Open threats', fmt.int(threats.unresolvedThreats), `${fmt.int(threats.criticalThreats)} critical, ${fmt.int(threats.highThreats)} high`),
    // The response cache (CACHE_TTL_SECONDS): the share of chat completions it answered, and what they would have cost.
    figure('Cache hits', fmt.percent(summary.cache.hitRate, 1), `${fmt.int(summary.cache.hits)} hits, ${fmt.cost(summary.cache.costSaved)} saved`),
  )
}

function charts(data) {
  const label = (timestamp) => (data.range === '24h' ? hour : day).format(new Date(timestamp))
  const times = (series) => series.map((point) => label(point.timestamp))
  const ratings = ['1', '2', '3', '4', '5']
  const latency = withGaps(data.latency, 'latency', data.requests)
  const costs = withGaps(data.costs, 'cost', data.requests)
  const specs = [
    [
      'Requests',
      'successful and failed requests over time',
      data.requests.length,
      timeSeries(
        times(data.requests),
        [
          { label: 'Success', data: data.requests.map((p) => p.success), backgroundColor: colors.success },
          { label: 'Error', data: data.requests.map((p) => p.error), backgroundColor: colors.error },
        ],
        { stacked: true },
      ),
    ],
    [
      'Latency',
      `average latency over time, in ${LATENCY_UNIT === 's' ? 'seconds' : 'milliseconds'}`,
      drawnPoints(latency),
      timeSeries(times(data.latency), [{ label: 'Latency', data: latency, borderColor: colors.accent, backgroundColor: colors.accent }], {
        yTitle: LATENCY_UNIT,
      }),
    ],
    [
      'Cost',
      'cost over time, in dollars',
      drawnPoints(costs),
      timeSeries(times(data.costs), [{ label: 'Cost', data: costs, borderColor: colors.amber, backgroundColor: colors.amber }], {
        currency: true,
      }),
    ],
    [
      'Top models',
      'requests per model',
      data.topModels.length,
      ranking(data.topModels.map((m) => m.name), 'Requests', data.topModels.map((m) => m.requests)),
    ],
    [
      'Top countries',
      'requests per country',
      data.topCountries.length,
      ranking(data.topCountries.map((c) => c.name), 'Requests', data.topCountries.map((c) => c.requests), colors.accent),
    ],
    [
      'Errors',
      'failed requests per status code',
      data.errorsBreakdown.length,
      ranking(data.errorsBreakdown.map((e) => e.label), 'Requests', data.errorsBreakdown.map((e) => e.value), colors.error),
    ],
    [
      'Ratings',
      'how many ratings of each star count',
      data.feedback.totalFeedback,
      {
        type: 'bar',
        data: {
          labels: ratings.map((r) => `${r} ★`),
          datasets: [{ label: 'Ratings', data: ratings.map((r) => data.feedback.ratingDistribution[r] ?? 0), backgroundColor: colors.amber }],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
      },
    ],
    [
      'Threats by type',
      'detected threats per type',
      data.threats.topThreatTypes.length,
      shares(data.threats.topThreatTypes.map((t) => t.type.replaceAll('_', ' ')), data.threats.topThreatTypes.map((t) => t.count)),
    ],
  ]
  const drawn = []
  const cards = specs.map(([title, description, size, config]) => {
    if (!size) return h('figure', { class: 'card chart-card' }, h('figcaption', {}, title), h('p', { class: 'state empty' }, 'No data in this range.'))
    const { card, chart } = chartCard(title, description, config)
    drawn.push(chart)
    return card
  })
  return { element: h('section', { class: 'charts', 'aria-label': 'Charts' }, cards), drawn }
}

/**
 * The health check's word on Redis (only there with REDIS_URL): its limits shared by every
 * replica, or Redis lost and what that means. Read with fetch, not `api`: a 503 still has the body.
 */
async function redisStatus() {
  const health = await fetch('/api/dashboard/health/').then((res) => res.json(), () => null)
  if (!health?.redis) return null
  if (health.redis.up) return { up: true, text: 'Redis: shared' }
  const meaning = health.status === 'healthy' ? 'each replica counts alone' : 'requests that need it are refused'
  return { up: false, text: `Redis: unreachable (${meaning})` }
}

export default function overview(root) {
  const initial = new URLSearchParams(location.search).get('range')
  // Without a range in the URL the API is asked without one, so the page opens on the API's
  // default range (24 hours); its button is pressed once the answer names it.
  let range = RANGES.some(([value]) => value === initial) ? initial : null
  let drawn = []
  let generation = 0
  const content = h('div')
  const buttons = RANGES.map(([value, label]) => h('button', { type: 'button', class: 'segment', 'data-range': value, onclick: () => choose(value) }, label))
  const updated = h('span', { class: 'updated', role: 'status' })
  const redis = h('span', { class: 'updated redis-status', role: 'status', hidden: true })
  const refresh = h('button', { type: 'button', class: 'button secondary', onclick: () => load() }, 'Refresh')

  // Also called when the page is left: a load still in flight then draws nothing.
  const destroy = () => {
    generation++
    for (const chart of drawn) chart.destroy()
    drawn = []
  }

  const press = () => {
    for (const button of buttons) button.setAttribute('aria-pressed', String(button.dataset.range === range))
  }

  async function load() {
    press()
    destroy()
    const mine = generation
    show(content, loading('Loading the dashboard…'))
    redisStatus().then((status) => {
      if (mine !== generation) return
      redis.hidden = !status
      redis.textContent = status?.text ?? ''
      redis.dataset.up = String(status?.up)
    })
    try {
      const data = await api(`/api/dashboard/${query({ range })}`)
      if (mine !== generation) return
      range = data.range
      press()
      const drawing = charts(data)
      drawn = drawing.drawn
      updated.textContent = `Updated ${fmt.date(data.generatedAt)}`
      show(content, figures(data), drawing.element)
    } catch (error) {
      if (mine === generation) show(content, errorBox(error.message))
    }
  }

  function choose(value) {
    range = value
    history.replaceState(history.state, '', `${location.pathname}?range=${value}`)
    load()
  }

  root.append(
    pageHeader('Overview', h('div', { class: 'toolbar' }, h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' }, buttons), refresh, updated, redis)),
    content,
  )
  load()
  return destroy
}
