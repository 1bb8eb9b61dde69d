// The sign-in form (email and password), and the page for accounts without the admin role.
import { signIn, signOut } from './api.js'
import { errorBox, field, h, notice } from './dom.js'

/** Shows the form; resolves with the signed-in admin. `reason` explains why it is shown. */
export function signInForm(root, reason) {
  return new Promise((resolve) => {
    const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'username' })
    const password = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'current-password' })
    const submit = h('button', { class: 'button' }, 'Sign in')
    const messages = h('div', { class: 'messages', 'aria-live': 'polite' }, reason ? notice(reason) : null)
    const form = h(
      'form',
      { class: 'card sign-in', 'aria-labelledby': 'sign-in-title' },
      h('h1', { id: 'sign-in-title' }, 'Sign in'),
      h('p', { class: 'muted' }, 'The admin console of AI Studio. Use an account with the admin role.'),
      messages,
      field('Email', email),
      field('Password', password),
      submit,
    )
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      submit.disabled = true
      submit.textContent = 'Signing in…'
      try {
        const user = await signIn(email.value.trim(), password.value)
        if (user.role === 'admin') return resolve(user)
        await signOut()
        messages.replaceChildren(errorBox(`Admin role required: ${user.email} is signed up as a user, so the admin console is closed to it. Ask an admin to grant the role.`))
      } catch (error) {
        messages.replaceChildren(errorBox(error.message))
      } finally {
        submit.disabled = false
        submit.textContent = 'Sign in'
      }
    })
    root.replaceChildren(form)
    email.focus()
  })
}

/** For a session whose account lost (or never had) the admin role. */
export function adminRequired(root, user, onSignOut) {
  root.replaceChildren(
    h(
      'div',
      { class: 'card sign-in' },
      h('h1', {}, 'Admin role required'),
      errorBox(`${user.email} does not have the admin role, so the admin console is closed to it. Ask an admin to grant the role.`),
      h('button', { type: 'button', class: 'button', onclick: onSignOut }, 'Sign out'),
    ),
  )
}
