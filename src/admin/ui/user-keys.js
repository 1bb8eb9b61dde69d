// Users' API keys: every user's keys, or one user's (the users page links here with `userId`),
// revoked ones included; an admin revokes any of them after a confirmation. Secrets are never
// shown, only the first characters of each key.
import { api, query } from './api.js'
import { badge, confirmAction, errorBox, field, fmt, h, notice, pageHeader } from './dom.js'
import { pagedList } from './list.js'

export default function userKeys(root) {
  const messages = h('div', { class: 'messages' })

  async function revoke(button, key) {
    if (!(await confirmAction('Revoke API key', `Revoke “${key.name}” (${key.prefix}…) of ${key.userEmail}? Tools using it stop working at once.`, 'Revoke', { danger: true })))
      return
    button.disabled = true
    try {
      list.replaceRow(button.closest('tr'), await api(`/api/admin/keys/${encodeURIComponent(key.id)}/`, { method: 'DELETE' }))
      messages.replaceChildren(notice(`Key “${key.name}” of ${key.userEmail} is revoked.`))
    } catch (error) {
      button.disabled = false
      messages.replaceChildren(errorBox(`The key was not revoked: ${error.message}`))
    }
  }

  const stateCell = (key) =>
    key.revokedAt
      ? h('span', { class: 'stack' }, badge('revoked', 'off'), h('span', { class: 'muted' }, fmt.date(key.revokedAt)))
      : h(
          'button',
          { type: 'button', class: 'button danger small', 'aria-label': `Revoke ${key.name}`, onclick: (event) => revoke(event.currentTarget, key) },
          'Revoke',
        )

  const list = pagedList({
    caption: 'API keys of users',
    emptyText: 'No user has an API key.',
    filteredEmptyText: 'This user has no API key.',
    filters: [field('User id', h('input', { name: 'userId', placeholder: 'Every user', autocomplete: 'off', maxlength: '100' }))],
    columns: [
      { label: 'User', cell: (k) => h('a', { href: `/admin/user-keys?userId=${encodeURIComponent(k.userId)}` }, k.userEmail) },
      { label: 'Name', cell: (k) => k.name },
      { label: 'Key', cell: (k) => h('code', {}, `${k.prefix}…`) },
      { label: 'Scopes', cell: (k) => (k.fullPower ? badge('full power', 'warn') : k.scopes.join(', ')) },
      { label: 'Models', cell: (k) => (k.models ? k.models.join(', ') : 'All') },
      { label: 'Created', cell: (k) => fmt.date(k.createdAt), className: 'nowrap' },
      { label: 'Last used', cell: (k) => (k.lastUsedAt ? fmt.date(k.lastUsedAt) : 'Never'), className: 'nowrap' },
      { label: 'Expires', cell: (k) => (k.expiresAt ? fmt.date(k.expiresAt) : 'Never'), className: 'nowrap' },
      { label: 'State', cell: stateCell },
    ],
    load: (values, cursor) => api(`/api/admin/keys/${query({ ...values, cursor, limit: 50 })}`),
  })

  root.append(pageHeader('Users’ API keys'), messages, list.element)
  list.reload()
}
