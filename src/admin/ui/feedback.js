// Feedback: ratings and comments that users left on completions.
import { api, query } from './api.js'
import { field, fmt, h, pageHeader, select } from './dom.js'
import { pagedList } from './list.js'

const stars = (rating) => h('span', { class: 'stars', 'aria-label': `${rating} of 5 stars` }, '★'.repeat(rating) + '☆'.repeat(5 - rating))

export default function feedback(root) {
  const list = pagedList({
    caption: 'Feedback',
    emptyText: 'No feedback yet.',
    filteredEmptyText: 'No feedback with this rating.',
    filters: [field('Rating', select('rating', [['', 'Any rating'], ...[5, 4, 3, 2, 1].map((r) => [String(r), `${r} ★`])]))],
    columns: [
      { label: 'Time', cell: (f) => fmt.date(f.createdAt), className: 'nowrap' },
      { label: 'Rating', cell: (f) => stars(f.rating) },
      { label: 'Comment', cell: (f) => f.comment || h('span', { class: 'muted' }, 'No comment'), className: 'wide' },
      { label: 'User', cell: (f) => f.userEmail ?? f.userId },
      { label: 'Model', cell: (f) => f.model },
      { label: 'Completion', cell: (f) => h('code', {}, f.completionId) },
    ],
    load: (values, cursor) => api(`/api/admin/feedback/${query({ ...values, cursor, limit: 50 })}`),
  })
  root.append(pageHeader('Feedback'), list.element)
  list.reload()
}
