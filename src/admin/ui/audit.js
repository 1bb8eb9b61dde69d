// Audit trail: the administrative and security-relevant acts, newest first, filtered by action,
// actor, target and time, with each entry's values before and after (shown as text: they hold
// what users typed, such as key names). The downloads (CSV, JSON) carry the filters applied.
import { api, query } from './api.js'
import { errorBox, field, fmt, h, isoOf, loading, pageHeader, select, show } from './dom.js'
import { pagedList } from './list.js'

const words = (action) => action.replace('.', ': ').replaceAll('_', ' ')

/** The filters as the audit API takes them: the time range as ISO instants. */
const apiFilters = ({ from, to, ...rest }) => ({ ...rest, from: isoOf(from), to: isoOf(to) })

/** A value as text: strings as they are, the rest as JSON. */
const shown = (value) => (typeof value === 'string' ? value : JSON.stringify(value))

/**
 * The values of an entry, one line per field: a changed one as before (struck out) → after; one
 * only before or only after is context (the key revoked, who resolved), unless the entry has no
 * other side: then it was removed (a deleted user) or added (a key created).
 */
function changes({ before, after }) {
  const was = before ?? {}
  const is = after ?? {}
  const removed = (name) => h('del', { title: 'before' }, shown(was[name]))
  const added = (name) => h('ins', { title: 'after' }, shown(is[name]))
  const value = (name) => {
    if (name in was && name in is) return [removed(name), ' → ', added(name)]
    if (name in was) return after ? shown(was[name]) : removed(name)
    return before ? shown(is[name]) : added(name)
  }
  const fields = [...new Set([...Object.keys(was), ...Object.keys(is)])]
  if (!fields.length) return null
  return h('dl', { class: 'changes' }, fields.flatMap((name) => [h('dt', {}, name), h('dd', {}, value(name))]))
}

const actor = (entry) =>
  entry.actorUserId
    ? h('span', { class: 'stack' }, entry.actorEmail ?? entry.actorUserId, entry.actorEmail ? h('span', { class: 'muted' }, entry.actorUserId) : null)
    : h('span', { class: 'muted' }, entry.action === 'sign_in.failed' ? 'anonymous' : 'command line')

const target = (entry) =>
  entry.targetType ? h('span', { class: 'stack' }, entry.targetType.replaceAll('_', ' '), entry.targetId ? h('code', {}, entry.targetId) : null) : null

export default function audit(root) {
  const messages = h('div', { class: 'messages' })

  /** Downloads every entry matching the filters applied (those in the address bar), as `format`. */
  async function download(format, button) {
    const applied = Object.fromEntries(new URLSearchParams(location.search))
    button.disabled = true
    try {
      const file = await api(`/api/admin/audit/export/${query({ ...apiFilters(applied), format })}`, { as: 'blob' })
      const url = URL.createObjectURL(file)
      const link = h('a', { href: url, download: `audit-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`, hidden: true })
      document.body.append(link)
      link.click()
      link.remove()
      setTimeout(() => URL.revokeObjectURL(url), 60_000)
      messages.replaceChildren()
    } catch (error) {
      messages.replaceChildren(errorBox(`The export failed: ${error.message}`))
    } finally {
      button.disabled = false
    }
  }

  const exportButton = (format, label) =>
    h('button', { type: 'button', class: 'button secondary', onclick: (event) => download(format, event.currentTarget) }, label)

  /** The list, once the acts the trail records are known (the server's own list: the filter offers exactly those). */
  const entries = (actions) => pagedList({
    caption: 'Audit trail',
    emptyText: 'Nothing has been recorded yet.',
    filteredEmptyText: 'No entry matches these filters.',
    filters: [
      field('Action', select('action', [['', 'Any action'], ...actions.map((action) => [action, words(action)])])),
      field('Actor (user id)', h('input', { name: 'actorUserId', placeholder: 'Anyone', autocomplete: 'off', maxlength: '200' })),
      field('Target type', h('input', { name: 'targetType', placeholder: 'user, api_key, threat…', autocomplete: 'off', maxlength: '50' })),
      field('Target id', h('input', { name: 'targetId', placeholder: 'Any', autocomplete: 'off', maxlength: '320' })),
      field('From', h('input', { name: 'from', type: 'datetime-local' })),
      field('To', h('input', { name: 'to', type: 'datetime-local' })),
    ],
    columns: [
      { label: 'Time', cell: (e) => fmt.date(e.at), className: 'nowrap' },
      { label: 'Action', cell: (e) => h('code', {}, e.action), className: 'nowrap' },
      { label: 'Actor', cell: actor },
      { label: 'Target', cell: target },
      { label: 'Changes', cell: changes, className: 'wide' },
      { label: 'Address', cell: (e) => e.ip },
      { label: 'Request id', cell: (e) => (e.requestId ? h('code', {}, e.requestId) : null) },
    ],
    load: (values, cursor) => api(`/api/admin/audit/${query({ ...apiFilters(values), cursor, limit: 50 })}`),
  })

  const body = h('div', {}, loading())
  root.append(
    pageHeader('Audit trail', h('div', { class: 'actions' }, exportButton('csv', 'Download CSV'), exportButton('json', 'Download JSON'))),
    h('p', { class: 'muted' }, 'Every administrative and security-relevant act, newest first. Entries cannot be changed or deleted. Downloads hold every entry matching the filters applied.'),
    messages,
    body,
  )
  api('/api/admin/audit/actions/').then(
    ({ data }) => {
      const list = entries(data)
      show(body, list.element)
      list.reload()
    },
    (error) => show(body, errorBox(error.message)),
  )
}
