// Threats: the threat log, filtered by type, severity and state; resolve one with one click.
import { api, query } from './api.js'
import { badge, errorBox, field, fmt, h, pageHeader, select } from './dom.js'
import { pagedList } from './list.js'

const TYPES = ['rate_limit', 'brute_force', 'invalid_token', 'suspicious_content', 'oversized_payload', 'malformed_flood']
const SEVERITIES = ['low', 'medium', 'high', 'critical']
const words = (type) => type.replaceAll('_', ' ')

export default function threats(root) {
  const messages = h('div', { class: 'messages' })

  async function resolve(button, threat) {
    button.disabled = true
    button.textContent = 'Resolving…'
    try {
      list.replaceRow(button.closest('tr'), await api(`/api/admin/threats/${threat.id}/resolve/`, { method: 'POST' }))
    } catch (error) {
      button.disabled = false
      button.textContent = 'Resolve'
      messages.replaceChildren(errorBox(`Threat ${threat.id} was not resolved: ${error.message}`))
    }
  }

  const stateCell = (threat) =>
    threat.resolved
      ? h('span', { class: 'stack' }, badge('resolved', 'ok'), h('span', { class: 'muted' }, `by ${threat.resolvedBy ?? '—'}, ${fmt.date(threat.resolvedAt)}`))
      : h(
          'button',
          { type: 'button', class: 'button small', 'aria-label': `Resolve threat ${threat.id}`, onclick: (event) => resolve(event.currentTarget, threat) },
          'Resolve',
        )

  const list = pagedList({
    caption: 'Threats',
    emptyText: 'No threats have been detected.',
    filteredEmptyText: 'No threat matches these filters.',
    filters: [
      field('Type', select('type', [['', 'Any type'], ...TYPES.map((t) => [t, words(t)])])),
      field('Severity', select('severity', [['', 'Any severity'], ...SEVERITIES.map((s) => [s, s])])),
      field('State', select('resolved', [['', 'Open and resolved'], ['false', 'Open'], ['true', 'Resolved']], 'false')),
    ],
    columns: [
      { label: 'Time', cell: (t) => fmt.date(t.createdAt), className: 'nowrap' },
      { label: 'Type', cell: (t) => words(t.type) },
      { label: 'Severity', cell: (t) => badge(t.severity) },
      { label: 'Source', cell: (t) => [t.address, t.principal?.userId].filter(Boolean).join(' · ') || '—' },
      { label: 'Detail', cell: (t) => t.detail, className: 'wide' },
      { label: 'State', cell: stateCell },
    ],
    load: (values, cursor) => api(`/api/admin/threats/${query({ ...values, cursor, limit: 50 })}`),
  })
  root.append(pageHeader('Threats'), messages, list.element)
  list.reload()
}
