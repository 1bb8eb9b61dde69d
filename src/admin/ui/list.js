// The list view every table page shares: a filter form mirrored in the URL, a table, cursor
// paging with "Load more", and loading, empty and error states. Stale answers are dropped.
import { empty, errorBox, h, loading, show, table } from './dom.js'

const formValues = (form) => Object.fromEntries([...new FormData(form)].filter(([, value]) => value !== ''))

/**
 * `load(values, cursor)` returns `{ items, nextCursor, total? }` for the filter form's values.
 * Columns are those of `table()`; a cell may call `list.replaceRow(tr, item)` after an action.
 */
export function pagedList({ caption, filters = [], columns, load, emptyText, filteredEmptyText = 'Nothing matches these filters.' }) {
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': `Filter ${caption.toLowerCase()}` },
    filters,
    h(
      'div',
      { class: 'filter-actions' },
      h('button', { class: 'button' }, 'Apply'),
      h('button', { type: 'reset', class: 'button secondary' }, 'Reset'),
    ),
  )
  for (const [name, value] of new URLSearchParams(location.search)) if (form.elements[name]) form.elements[name].value = value

  const rows = table(columns, caption)
  const state = h('div', { 'aria-live': 'polite' })
  const summary = h('p', { class: 'list-summary', 'aria-live': 'polite' })
  const more = h('button', { type: 'button', class: 'button secondary', hidden: true, onclick: () => next() }, 'Load more')
  rows.element.hidden = true

  let values = {}
  let cursor = null
  let shown = 0
  let generation = 0

  async function next() {
    const mine = generation
    more.disabled = true
    more.textContent = 'Loading…'
    if (!shown) show(state, loading())
    try {
      const page = await load(values, cursor)
      if (mine !== generation) return
      rows.append(page.items)
      shown += page.items.length
      cursor = page.nextCursor
      rows.element.hidden = shown === 0
      const filtered = Object.keys(values).length > 0
      show(state, shown === 0 ? empty(filtered ? filteredEmptyText : emptyText) : '')
      summary.textContent = shown === 0 ? '' : page.total === undefined ? `Showing ${shown}` : `Showing ${shown} of ${page.total}`
      more.hidden = cursor === null || cursor === undefined
    } catch (error) {
      if (mine === generation) show(state, errorBox(error.message))
    } finally {
      more.disabled = false
      more.textContent = 'Load more'
    }
  }

  function reload() {
    generation++
    values = formValues(form)
    cursor = null
    shown = 0
    rows.clear()
    rows.element.hidden = true
    more.hidden = true
    summary.textContent = ''
    const search = new URLSearchParams(values).toString()
    history.replaceState(history.state, '', `${location.pathname}${search ? `?${search}` : ''}`)
    return next()
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    reload()
  })
  // The reset event fires before the fields are reset (and microtasks run in between), hence the task.
  form.addEventListener('reset', () => setTimeout(reload))

  return {
    element: h('div', { class: 'list' }, form, summary, state, rows.element, h('div', { class: 'more' }, more)),
    reload,
    replaceRow: rows.replace,
  }
}
