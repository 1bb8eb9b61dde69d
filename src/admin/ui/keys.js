// API keys of the signed-in admin: create one with its scopes, allowed models, expiry and own
// limits (requests per minute per group, tokens per minute; its secret is shown once, with a copy
// button), list them (keys made before scopes flagged full-power), revoke one.
import { api } from './api.js'
import { badge, confirmAction, empty, errorBox, field, fmt, h, loading, notice, pageHeader, show, table } from './dom.js'

/** A key's scopes, as the keys API names them (src/db/stores/keys.ts). */
const SCOPES = [
  ['inference', 'Inference (the /v1 APIs)'],
  ['read', 'Read (your dashboard, logs, conversations)'],
  ['manage', 'Manage (your keys and account)'],
  ['admin', 'Admin (the admin routes)'],
]

/** The groups a key may have its own requests per minute in, as the keys API names them (src/db/stores/keys.ts). */
const LIMIT_GROUPS = [
  ['chat', 'Chat'],
  ['embeddings', 'Embeddings'],
  ['images', 'Images'],
  ['models', 'Model lists'],
  ['dashboard', 'Dashboard'],
]

/** A key's own limits in a few words: "chat 20/min, 5,000 tokens/min", or "None". */
function limitsText(key) {
  const parts = LIMIT_GROUPS.filter(([group]) => key.rateLimits?.[group]).map(([group]) => `${group} ${fmt.int(key.rateLimits[group])}/min`)
  if (key.tokensPerMinute) parts.push(`${fmt.int(key.tokensPerMinute)} tokens/min`)
  return parts.join(', ') || 'None'
}

/** A whole number typed in a number field, or undefined when it is left empty (the API judges the rest). */
const typedNumber = (input) => (input.value.trim() === '' ? undefined : Number(input.value))

/** Copies through the Clipboard API where the page may use it, else by selecting the text. */
async function copy(input) {
  input.select()
  try {
    await navigator.clipboard.writeText(input.value)
  } catch {
    if (!document.execCommand('copy')) throw new Error('Copying is not allowed here; the key is selected, copy it by hand.')
  }
}

function secretBox(created) {
  const input = h('input', { readonly: true, value: created.key, 'aria-label': 'The new API key', class: 'secret', spellcheck: 'false' })
  const status = h('span', { role: 'status', class: 'muted' })
  const button = h(
    'button',
    {
      type: 'button',
      class: 'button',
      onclick: () =>
        copy(input).then(
          () => (status.textContent = 'Copied.'),
          (error) => (status.textContent = error.message),
        ),
    },
    'Copy',
  )
  return h(
    'div',
    { class: 'card secret-box' },
    h('p', {}, h('strong', {}, `Key “${created.name}” created. `), 'Copy it now: it is shown only once and cannot be recovered.'),
    h('div', { class: 'secret-row' }, input, button),
    status,
  )
}

export default function keys(root) {
  const messages = h('div', { class: 'messages', 'aria-live': 'polite' })
  const listState = h('div')
  const rows = table(
    [
      { label: 'Name', cell: (k) => k.name },
      { label: 'Key', cell: (k) => h('code', {}, `${k.prefix}…`) },
      { label: 'Scopes', cell: (k) => (k.fullPower ? badge('full power', 'warn') : k.scopes.join(', ')) },
      { label: 'Models', cell: (k) => (k.models ? k.models.join(', ') : 'All') },
      { label: 'Limits', cell: limitsText },
      { label: 'Created', cell: (k) => fmt.date(k.createdAt) },
      { label: 'Last used', cell: (k) => (k.lastUsedAt ? fmt.date(k.lastUsedAt) : 'Never') },
      { label: 'Expires', cell: (k) => (k.expiresAt ? fmt.date(k.expiresAt) : 'Never') },
      { label: 'Actions', cell: (k) => h('button', { type: 'button', class: 'button danger small', onclick: () => revoke(k) }, 'Revoke') },
    ],
    'Your API keys',
  )

  async function refresh() {
    show(listState, loading())
    try {
      const { data: items } = await api('/api/keys/')
      rows.clear()
      rows.append(items)
      rows.element.hidden = items.length === 0
      show(listState, items.length ? '' : empty('You have no API keys. Create one above to call the API from tools and scripts.'))
    } catch (error) {
      show(listState, errorBox(error.message))
    }
  }

  async function revoke(key) {
    if (!(await confirmAction('Revoke API key', `Revoke “${key.name}” (${key.prefix}…)? Tools using it stop working at once.`, 'Revoke', { danger: true }))) return
    try {
      await api(`/api/keys/${encodeURIComponent(key.id)}/`, { method: 'DELETE' })
      messages.replaceChildren(notice(`Key “${key.name}” is revoked.`))
      await refresh()
    } catch (error) {
      messages.replaceChildren(errorBox(error.message))
    }
  }

  const name = h('input', { name: 'name', required: true, maxlength: '100', placeholder: 'e.g. CI pipeline', autocomplete: 'off' })
  const expires = h('input', { name: 'expiresAt', type: 'date' })
  // New keys may call the models and read your own data unless more is ticked (the API's default).
  const scopes = SCOPES.map(([value, label]) =>
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'scopes', value, checked: value === 'inference' || value === 'read' }), ` ${label}`),
  )
  const models = h('input', { name: 'models', maxlength: '2000', placeholder: 'All models (or e.g. llama3*, qwen2.5:7b)', autocomplete: 'off' })
  const perMinute = LIMIT_GROUPS.map(([group, label]) => [group, h('input', { name: `rateLimits.${group}`, type: 'number', min: '1', step: '1', placeholder: 'No limit', inputmode: 'numeric' }), label])
  const tokensPerMinute = h('input', { name: 'tokensPerMinute', type: 'number', min: '1', step: '1', placeholder: 'No limit', inputmode: 'numeric' })
  const submit = h('button', { class: 'button' }, 'Create key')
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Create an API key' },
    field('Name', name),
    field('Expires (optional)', expires),
    h('fieldset', { class: 'field' }, h('legend', {}, 'Scopes'), ...scopes),
    field('Models (optional)', models),
    h('fieldset', { class: 'field limits' }, h('legend', {}, 'Requests per minute (optional, besides your own limits)'), ...perMinute.map(([, input, label]) => field(label, input))),
    field('Tokens per minute (optional)', tokensPerMinute),
    h('div', { class: 'filter-actions' }, submit),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    submit.disabled = true
    try {
      const json = { name: name.value.trim(), scopes: scopes.map((label) => label.querySelector('input')).filter((box) => box.checked).map((box) => box.value) }
      if (expires.value) json.expiresAt = new Date(`${expires.value}T23:59:59`).toISOString()
      const allowed = models.value.split(',').map((model) => model.trim()).filter(Boolean)
      if (allowed.length) json.models = allowed
      const rateLimits = Object.fromEntries(perMinute.map(([group, input]) => [group, typedNumber(input)]).filter(([, value]) => value !== undefined))
      if (Object.keys(rateLimits).length) json.rateLimits = rateLimits
      if (typedNumber(tokensPerMinute) !== undefined) json.tokensPerMinute = typedNumber(tokensPerMinute)
      const created = await api('/api/keys/', { method: 'POST', json })
      form.reset()
      messages.replaceChildren(secretBox(created))
      await refresh()
    } catch (error) {
      messages.replaceChildren(errorBox(error.message))
    } finally {
      submit.disabled = false
    }
  })

  root.append(
    pageHeader('API keys'),
    h('p', { class: 'muted' }, 'A key does what its scopes allow, with the models it may use, within its own limits as well as yours. Keys made before scopes existed are full-power: they act as you.'),
    form,
    messages,
    listState,
    rows.element,
  )
  refresh()
}
