// Budgets: every user's and API key's budget with what its current window spent against its
// limits (a meter per limit), when it resets; set one for a user (by email) or a key (by id), and
// remove one.
import { api, query } from './api.js'
import { badge, confirmAction, errorBox, field, fmt, h, notice, pageHeader, select } from './dom.js'
import { pagedList } from './list.js'

const PERIODS = [
  ['day', 'Per day (UTC)'],
  ['month', 'Per month (UTC)'],
  ['total', 'In total'],
]

const figure = (value) => String(Number(value.toPrecision(6)))

/** Spent against a limit: a meter and the figures, or "no limit". */
function use(spent, max, label) {
  if (max === null) return h('span', { class: 'muted' }, 'no limit')
  const meter = h('meter', { min: '0', max: String(max), value: String(Math.min(spent, max)), high: String(max * 0.8), optimum: '0', 'aria-label': label })
  return h('span', { class: 'stack' }, meter, `${figure(spent)} of ${figure(max)}${spent >= max ? ' — used up' : ''}`)
}

const holder = (b) =>
  b.apiKeyId
    ? h('span', { class: 'stack' }, h('span', {}, 'Key ', h('code', {}, `${b.keyPrefix}…`), ` ${b.keyName ?? ''}`), h('span', { class: 'muted' }, b.email))
    : h('span', {}, b.email)

/** The id of the user with exactly this email, through the users search. */
async function userIdOf(email) {
  const page = await api(`/api/admin/users/${query({ search: email, limit: 50 })}`)
  const found = page.items.find((user) => user.email.toLowerCase() === email.toLowerCase())
  if (!found) throw new Error(`No user has the email ${email}.`)
  return found.id
}

export default function budgets(root) {
  const messages = h('div', { class: 'messages', 'aria-live': 'polite' })

  async function remove(button, budget) {
    const whose = budget.apiKeyId ? `key ${budget.keyPrefix}…` : budget.email
    if (!(await confirmAction('Remove budget', `Remove the ${budget.period} budget of ${whose}? What it spent is forgotten.`, 'Remove', { danger: true }))) return
    button.disabled = true
    try {
      await api(`/api/admin/budgets/${encodeURIComponent(budget.id)}/`, { method: 'DELETE' })
      messages.replaceChildren(notice(`The ${budget.period} budget of ${whose} is removed.`))
      list.reload()
    } catch (error) {
      button.disabled = false
      messages.replaceChildren(errorBox(error.message))
    }
  }

  const list = pagedList({
    caption: 'Budgets',
    emptyText: 'No budgets are set: requests are limited only by the rate limits.',
    filteredEmptyText: 'No budget matches these filters.',
    filters: [field('User id', h('input', { name: 'userId', maxlength: '200', autocomplete: 'off' })), field('API key id', h('input', { name: 'apiKeyId', maxlength: '200', autocomplete: 'off' }))],
    columns: [
      { label: 'Holder', cell: holder },
      { label: 'Period', cell: (b) => b.period },
      { label: 'Cost', cell: (b) => use(b.spent.cost, b.maxCost, `Cost spent of ${b.maxCost}`) },
      { label: 'Tokens', cell: (b) => use(b.spent.tokens, b.maxTokens, `Tokens spent of ${b.maxTokens}`) },
      { label: 'Resets', cell: (b) => (b.resetsAt ? fmt.date(b.resetsAt) : badge('never', 'muted')), className: 'nowrap' },
      { label: 'Actions', cell: (b) => h('button', { type: 'button', class: 'button danger small', onclick: (event) => remove(event.currentTarget, b) }, 'Remove') },
    ],
    load: (values, cursor) => api(`/api/admin/budgets/${query({ ...values, cursor, limit: 50 })}`),
  })

  const kind = select('kind', [
    ['user', 'A user (all their requests)'],
    ['key', 'An API key (its requests)'],
  ])
  const who = h('input', { name: 'who', required: true, maxlength: '320', autocomplete: 'off', placeholder: 'user@example.com' })
  kind.addEventListener('change', () => (who.placeholder = kind.value === 'user' ? 'user@example.com' : 'the key’s id'))
  const period = select('period', PERIODS, 'day')
  const maxCost = h('input', { name: 'maxCost', type: 'number', min: '0', step: 'any', inputmode: 'decimal' })
  const maxTokens = h('input', { name: 'maxTokens', type: 'number', min: '0', step: '1', inputmode: 'numeric' })
  const submit = h('button', { class: 'button' }, 'Set budget')
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Set a budget' },
    field('For', kind),
    field('Email or key id', who),
    field('Period', period),
    field('Max cost', maxCost),
    field('Max tokens', maxTokens),
    h('div', { class: 'filter-actions' }, submit),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    submit.disabled = true
    try {
      const limit = (input) => (input.value === '' ? null : Number(input.value))
      const json = { maxCost: limit(maxCost), maxTokens: limit(maxTokens) }
      if (json.maxCost === null && json.maxTokens === null) throw new Error('Give a max cost, a max tokens, or both.')
      const target = kind.value === 'user' ? `users/${encodeURIComponent(await userIdOf(who.value.trim()))}` : `keys/${encodeURIComponent(who.value.trim())}`
      const set = await api(`/api/admin/${target}/budgets/${period.value}/`, { method: 'PUT', json })
      messages.replaceChildren(notice(`Budget set: ${set.period} for ${set.apiKeyId ? `key ${set.keyPrefix}…` : set.email}.`))
      form.reset()
      list.reload()
    } catch (error) {
      messages.replaceChildren(errorBox(error.message))
    } finally {
      submit.disabled = false
    }
  })

  root.append(
    pageHeader('Budgets'),
    h(
      'p',
      { class: 'muted' },
      'Each request reserves its worst case (its max_tokens and prompt, at the model’s price) before it calls the model and is refused with 429 insufficient_quota when that does not fit; it then spends what it used. Cost is in MODEL_PRICES’ currency; days and months are UTC.',
    ),
    form,
    messages,
    list.element,
  )
  list.reload()
}
