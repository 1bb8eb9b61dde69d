// Logs: request logs filtered by user, model, client API, status, outcome and time; a row opens its detail.
// A request answered from the response cache is marked `cached`.
import { api, query } from './api.js'
import { badge, dialog, errorBox, field, fmt, h, isoOf, loading, pageHeader, select, show } from './dom.js'
import { pagedList } from './list.js'

const OUTCOMES = ['ok', 'client_error', 'server_error', 'cancelled', 'upstream_error']

const statusBadge = (status) => badge(String(status), status < 400 ? 'ok' : status < 500 ? 'warn' : 'bad')

const DETAIL = [
  ['Request id', (l) => l.requestId],
  ['Time', (l) => fmt.date(l.createdAt)],
  ['Request', (l) => `${l.method} ${l.path}`],
  ['Status', (l) => statusBadge(l.status)],
  ['Outcome', (l) => l.outcome],
  ['Error type', (l) => l.errorType],
  ['User', (l) => (l.userEmail ? `${l.userEmail} (${l.userId})` : l.userId)],
  ['API key', (l) => l.apiKeyId],
  ['Session', (l) => l.sessionId],
  ['Model', (l) => l.model],
  ['Upstream', (l) => l.upstream],
  ['Completion id', (l) => l.completionId],
  // The chat request's own labels, as its caller sent them (OpenAI's `user` and `metadata`).
  ['End user', (l) => l.endUser],
  ['Metadata', (l) => (l.metadata ? Object.entries(l.metadata).map(([key, value]) => `${key}: ${value}`).join('; ') : null)],
  ['Latency', (l) => fmt.ms(l.latencyMs)],
  ['Time to first token', (l) => fmt.ms(l.ttftMs)],
  ['Tokens', (l) => `${fmt.int(l.promptTokens)} prompt + ${fmt.int(l.completionTokens)} completion = ${fmt.int(l.totalTokens)}`],
  ['Images', (l) => (l.images === null ? null : fmt.int(l.images))],
  ['Cost', (l) => fmt.cost(l.cost)],
  ['Response cache', (l) => (l.cached ? `hit: answered from the cache, ${fmt.cost(l.costSaved)} saved` : 'not served from it')],
  ['Country', (l) => l.country],
  ['Address', (l) => l.ip],
  ['User agent', (l) => l.userAgent],
]

async function openDetail(id) {
  const body = h('div', {}, loading())
  const closed = dialog(`Request ${id}`, body, [h('button', { class: 'button', value: 'close', autofocus: true }, 'Close')])
  try {
    const log = await api(`/api/admin/logs/${id}/`)
    show(body, h('dl', { class: 'details' }, DETAIL.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value(log) ?? '—')])))
  } catch (error) {
    show(body, errorBox(error.message))
  }
  return closed
}

/** The client APIs, as the logs API's `api` filter names them (src/telemetry/apis.ts). */
const APIS = [
  ['chat', 'Chat completions'],
  ['completions', 'Text completions'],
  ['embeddings', 'Embeddings'],
  ['images', 'Images'],
  ['messages', 'Anthropic Messages'],
  ['responses', 'Responses'],
]

export default function logs(root) {
  const list = pagedList({
    caption: 'Request logs',
    emptyText: 'No requests have been logged yet.',
    filters: [
      field('User id', h('input', { name: 'userId', placeholder: 'Any user', autocomplete: 'off' })),
      field('Model', h('input', { name: 'model', placeholder: 'Any model', autocomplete: 'off' })),
      field('API', select('api', [['', 'Any API'], ...APIS])),
      field('Status', h('input', { name: 'status', type: 'number', min: '100', max: '599', placeholder: 'Any' })),
      field('Outcome', select('outcome', [['', 'Any outcome'], ...OUTCOMES.map((o) => [o, o.replaceAll('_', ' ')])])),
      field('From', h('input', { name: 'from', type: 'datetime-local' })),
      field('To', h('input', { name: 'to', type: 'datetime-local' })),
    ],
    columns: [
      {
        label: 'Time',
        cell: (l) => h('button', { type: 'button', class: 'link', onclick: () => openDetail(l.id), 'aria-label': `Details of request ${l.id}` }, fmt.date(l.createdAt)),
        className: 'nowrap',
      },
      { label: 'Request', cell: (l) => h('code', {}, `${l.method} ${l.path}`) },
      { label: 'Status', cell: (l) => statusBadge(l.status) },
      {
        label: 'Outcome',
        cell: (l) => (l.cached ? h('span', {}, `${l.outcome.replaceAll('_', ' ')} `, badge('cached', 'low')) : l.outcome.replaceAll('_', ' ')),
        className: 'nowrap',
      },
      { label: 'Model', cell: (l) => l.model },
      { label: 'User', cell: (l) => l.userEmail ?? l.userId },
      { label: 'Latency', cell: (l) => fmt.ms(l.latencyMs), className: 'number' },
      { label: 'Tokens', cell: (l) => fmt.int(l.totalTokens), className: 'number' },
      { label: 'Cost', cell: (l) => fmt.cost(l.cost), className: 'number' },
    ],
    load: ({ from, to, ...values }, cursor) =>
      api(`/api/admin/logs/${query({ ...values, from: isoOf(from), to: isoOf(to), cursor, limit: 50 })}`),
  })
  root.append(pageHeader('Request logs'), list.element)
  list.reload()
}
