// The admin app: signs in, then routes /admin/<page> to its page module (history API),
// marking the current link and moving focus to the new page for keyboard and screen-reader users.
import { api, hasTokens, signOut, whenSignedOut } from './api.js'
import audit from './audit.js'
import { errorBox, h } from './dom.js'
import budgets from './budgets.js'
import feedback from './feedback.js'
import keys from './keys.js'
import logs from './logs.js'
import overview from './overview.js'
import { adminRequired, signInForm } from './sign-in.js'
import threats from './threats.js'
import users from './users.js'
import userKeys from './user-keys.js'

const PAGES = {
  overview: { title: 'Overview', render: overview },
  users: { title: 'Users', render: users },
  logs: { title: 'Request logs', render: logs },
  threats: { title: 'Threats', render: threats },
  feedback: { title: 'Feedback', render: feedback },
  keys: { title: 'API keys', render: keys },
  budgets: { title: 'Budgets', render: budgets },
  audit: { title: 'Audit trail', render: audit },
  'user-keys': { title: 'Users’ API keys', render: userKeys },
}

const main = document.getElementById('main')
const nav = document.getElementById('nav')
const account = document.getElementById('account')

let me = null
let cleanup = null

const pageOf = (path) => {
  const name = path.replace(/^\/admin\/?/, '').replace(/\/+$/, '') || 'overview'
  return PAGES[name] ? name : null
}

function render() {
  cleanup?.()
  cleanup = null
  const name = pageOf(location.pathname)
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.page === name) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  const root = h('div', { class: 'page' })
  main.replaceChildren(root)
  if (!name) {
    document.title = 'Not found · AI Studio admin'
    root.append(h('h1', {}, 'Page not found'), h('p', {}, 'There is no such page. ', h('a', { href: '/admin/' }, 'Go to the overview.')))
    return
  }
  document.title = `${PAGES[name].title} · AI Studio admin`
  cleanup = PAGES[name].render(root, { me }) ?? null
}

function navigate(href) {
  if (href !== location.pathname + location.search) history.pushState(null, '', href)
  render()
  main.focus()
}

document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a[href^="/admin"]')
  if (!link || !me || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  event.preventDefault()
  navigate(link.getAttribute('href'))
})
addEventListener('popstate', render)

function showChrome(visible) {
  nav.hidden = !visible
  account.hidden = !visible
  document.getElementById('account-email').textContent = visible ? me.email : ''
}

let signingIn = false

async function requireSignIn(reason) {
  if (signingIn) return
  signingIn = true
  cleanup?.()
  cleanup = null
  me = null
  showChrome(false)
  document.title = 'Sign in · AI Studio admin'
  me = await signInForm(main, reason)
  signingIn = false
  start()
  main.focus()
}

function start() {
  if (me.role !== 'admin') {
    showChrome(false)
    adminRequired(main, me, () => signOut().then(() => requireSignIn()))
    return
  }
  showChrome(true)
  render()
}

document.getElementById('sign-out').addEventListener('click', async () => {
  await signOut()
  requireSignIn('You are signed out.')
})
whenSignedOut((reason) => requireSignIn(reason))

if (!hasTokens()) requireSignIn()
else
  api('/api/auth/me/').then(
    (user) => {
      me = user
      start()
    },
    (error) => {
      if (error.status === 401) return
      main.replaceChildren(
        errorBox(`The admin console could not start: ${error.message}`),
        h('button', { type: 'button', class: 'button', onclick: () => location.reload() }, 'Try again'),
      )
    },
  )
