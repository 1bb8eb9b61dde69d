// Small DOM helpers shared by every page: an element builder, formatters, loading/empty/error
// states, tables that stack into cards at phone width, and modal dialogs.

/** h('button', { type: 'button', onclick: fn, class: 'x', disabled: true }, 'Label', child); props are attributes. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value)
    else element.setAttribute(key, value === true ? '' : value)
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false))
  return element
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const integer = new Intl.NumberFormat()
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 })

export const fmt = {
  date: (iso) => (iso ? dateTime.format(new Date(iso)) : '—'),
  int: (n) => integer.format(Math.round(n ?? 0)),
  num: (n) => decimal.format(n ?? 0),
  ms: (n) => (n === null || n === undefined ? '—' : n >= 1000 ? `${decimal.format(n / 1000)} s` : `${decimal.format(n)} ms`),
  cost: (n) => `$${(n ?? 0).toFixed(n && Math.abs(n) < 0.1 ? 4 : 2)}`,
  percent: (part, whole) => (whole ? `${decimal.format((100 * part) / whole)} %` : '—'),
}

/** The value of a `datetime-local` input (local time) as an ISO instant; undefined when empty. */
export const isoOf = (local) => (local ? new Date(local).toISOString() : undefined)

export const loading = (text = 'Loading…') => h('p', { class: 'state', 'aria-busy': 'true' }, text)
export const empty = (text) => h('p', { class: 'state empty' }, text)
export const errorBox = (message) => h('p', { class: 'alert', role: 'alert' }, message)
export const notice = (message) => h('p', { class: 'notice', role: 'status' }, message)

/** Replaces the children of a region (a loading, empty or error state, or content). */
export const show = (region, ...content) => region.replaceChildren(...content)

export const pageHeader = (title, ...extra) => h('div', { class: 'page-header' }, h('h1', {}, title), ...extra)

/**
 * A table of rows; `columns` are `{ label, cell: row => Node | string, className? }`. Each cell
 * carries its column's label so that narrow screens can show every row as a card.
 */
export function table(columns, caption) {
  const body = h('tbody')
  const element = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, columns.map((column) => h('th', { scope: 'col' }, column.label)))),
      body,
    ),
  )
  const row = (item) =>
    h('tr', {}, columns.map((column) => h('td', { 'data-label': column.label, class: column.className }, column.cell(item) ?? '—')))
  return {
    element,
    append: (items) => body.append(...items.map(row)),
    clear: () => body.replaceChildren(),
    /** Redraws one row in place after it changed. */
    replace: (tr, item) => tr.replaceWith(row(item)),
  }
}

/** A modal dialog; resolves with the value of the button that closed it ('' on Escape). */
export function dialog(title, content, buttons) {
  const element = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': 'dialog-title' },
    h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'dialog-title' }, title),
      h('div', { class: 'dialog-body' }, content),
      h('div', { class: 'dialog-actions' }, buttons),
    ),
  )
  document.body.append(element)
  return new Promise((resolve) => {
    element.addEventListener('close', () => {
      element.remove()
      resolve(element.returnValue)
    })
    element.showModal()
  })
}

export async function confirmAction(title, message, confirmLabel, { danger = false } = {}) {
  const answer = await dialog(title, h('p', {}, message), [
    h('button', { class: 'button secondary', value: 'cancel', autofocus: true }, 'Cancel'),
    h('button', { class: danger ? 'button danger' : 'button', value: 'confirm' }, confirmLabel),
  ])
  return answer === 'confirm'
}

/** A `<label>` wrapping a control, so every input has a visible label. */
export const field = (label, control) => h('label', { class: 'field' }, h('span', {}, label), control)

export const select = (name, options, value = '') =>
  h('select', { name }, options.map(([optionValue, label]) => h('option', { value: optionValue, selected: optionValue === value }, label)))

export const badge = (text, kind = text) => h('span', { class: `badge badge-${kind}` }, text)
