// Users: search and filter, change a role, activate, deactivate or delete (each after a
// confirmation); each user links to their request logs, API keys and audit entries.
import { api, query } from './api.js'
import { badge, confirmAction, errorBox, field, fmt, h, notice, pageHeader, select } from './dom.js'
import { pagedList } from './list.js'

export default function users(root, { me }) {
  const messages = h('div', { class: 'messages' })
  const say = (node) => messages.replaceChildren(node)

  /** Asks, then applies `patch` to the user and redraws their row. */
  async function change(tr, user, patch, ask) {
    if (!(await confirmAction(ask.title, ask.message, ask.confirm, { danger: ask.danger }))) return false
    try {
      const updated = await api(`/api/admin/users/${encodeURIComponent(user.id)}/`, { method: 'PATCH', json: patch })
      list.replaceRow(tr, updated)
      say(notice(ask.done))
      return true
    } catch (error) {
      say(errorBox(error.message))
      return false
    }
  }

  function roleCell(user) {
    const self = user.id === me.id
    const control = select('role', [['admin', 'Admin'], ['user', 'User']], user.role)
    control.setAttribute('aria-label', `Role of ${user.email}`)
    if (self) control.disabled = true
    control.addEventListener('change', async () => {
      const role = control.value
      const promote = role === 'admin'
      const changed = await change(control.closest('tr'), user, { role }, {
        title: 'Change role',
        message: promote ? `Give ${user.email} the admin role? They will see everything here.` : `Remove the admin role from ${user.email}?`,
        confirm: promote ? 'Make admin' : 'Make user',
        done: `${user.email} is now ${promote ? 'an admin' : 'a user'}.`,
      })
      if (!changed) control.value = user.role
    })
    return control
  }

  async function remove(button, user) {
    const confirmed = await confirmAction(
      'Delete user',
      `Delete ${user.email} for good? Their sessions, API keys, conversations, stored responses and ratings are deleted and their keys stop working at once. Their request logs and audit entries stay.`,
      'Delete',
      { danger: true },
    )
    if (!confirmed) return
    button.disabled = true
    try {
      await api(`/api/admin/users/${encodeURIComponent(user.id)}/`, { method: 'DELETE' })
      button.closest('tr').remove()
      say(notice(`${user.email} is deleted.`))
    } catch (error) {
      button.disabled = false
      say(errorBox(error.message))
    }
  }

  function actionCell(user) {
    const id = encodeURIComponent(user.id)
    const logs = h('a', { href: `/admin/logs?userId=${id}`, 'aria-label': `Request logs of ${user.email}` }, 'Logs')
    const keys = h('a', { href: `/admin/user-keys?userId=${id}`, 'aria-label': `API keys of ${user.email}` }, 'Keys')
    const audit = h('a', { href: `/admin/audit?targetType=user&targetId=${id}`, 'aria-label': `Audit entries about ${user.email}` }, 'Audit')
    if (user.id === me.id) return h('div', { class: 'actions' }, logs, keys, audit, h('span', { class: 'muted' }, 'You'))
    const deactivate = user.isActive
    const toggle = h(
      'button',
      {
        type: 'button',
        class: deactivate ? 'button danger small' : 'button small',
        onclick: (event) =>
          change(
            event.currentTarget.closest('tr'),
            user,
            { isActive: !deactivate },
            deactivate
              ? {
                  title: 'Deactivate user',
                  message: `Deactivate ${user.email}? Their sessions and API keys are revoked at once and for good.`,
                  confirm: 'Deactivate',
                  danger: true,
                  done: `${user.email} is deactivated; their sessions and API keys are revoked.`,
                }
              : {
                  title: 'Activate user',
                  message: `Let ${user.email} sign in again? API keys revoked on deactivation stay revoked.`,
                  confirm: 'Activate',
                  done: `${user.email} is active again.`,
                },
          ),
      },
      deactivate ? 'Deactivate' : 'Activate',
    )
    const deletion = h(
      'button',
      { type: 'button', class: 'button danger small', 'aria-label': `Delete ${user.email}`, onclick: (event) => remove(event.currentTarget, user) },
      'Delete',
    )
    return h('div', { class: 'actions' }, logs, keys, audit, toggle, deletion)
  }

  const list = pagedList({
    caption: 'Users',
    emptyText: 'No users yet.',
    filteredEmptyText: 'No user matches these filters.',
    filters: [
      field('Search', h('input', { type: 'search', name: 'search', placeholder: 'Email or name', maxlength: '200' })),
      field('Role', select('role', [['', 'Any role'], ['admin', 'Admin'], ['user', 'User']])),
      field('Status', select('active', [['', 'Any status'], ['true', 'Active'], ['false', 'Deactivated']])),
    ],
    columns: [
      { label: 'User', cell: (u) => h('div', { class: 'stack' }, h('strong', {}, u.name || u.email), u.name ? h('span', { class: 'muted' }, u.email) : null) },
      { label: 'Role', cell: roleCell },
      { label: 'Status', cell: (u) => (u.isActive ? badge('active', 'ok') : badge('deactivated', 'off')) },
      { label: 'Sign-in', cell: (u) => u.provider },
      { label: 'Created', cell: (u) => fmt.date(u.createdAt) },
      { label: 'Last sign-in', cell: (u) => fmt.date(u.lastLoginAt) },
      { label: 'Conversations', cell: (u) => String(u.conversations ?? 0) },
      { label: 'Actions', cell: actionCell },
    ],
    load: (values, cursor) => api(`/api/admin/users/${query({ ...values, cursor, limit: 50 })}`),
  })

  root.append(pageHeader('Users'), messages, list.element)
  list.reload()
}
