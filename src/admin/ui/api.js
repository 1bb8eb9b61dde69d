// Talks to the server's JSON API: keeps the tokens in localStorage (as the studio frontend
// does), sends the access token, and on a 401 refreshes once, sharing one refresh between
// concurrent calls (refresh tokens rotate; spending one twice would revoke the sign-in).

const ACCESS = 'accessToken'
const REFRESH = 'refreshToken'

class ApiError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

/** Called when the sign-in is gone (refresh failed); the app shows the sign-in form. */
let onSignedOut = () => {}
export const whenSignedOut = (handler) => (onSignedOut = handler)

export const hasTokens = () => Boolean(localStorage.getItem(ACCESS) && localStorage.getItem(REFRESH))

function keepTokens({ accessToken, refreshToken }) {
  localStorage.setItem(ACCESS, accessToken)
  localStorage.setItem(REFRESH, refreshToken)
}

function forgetTokens() {
  localStorage.removeItem(ACCESS)
  localStorage.removeItem(REFRESH)
}

/** `as: 'blob'` reads the answer as a file (a download) rather than JSON. */
async function send(path, { method = 'GET', json, token, as = 'json' } = {}) {
  const headers = { accept: 'application/json' }
  if (json !== undefined) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  let response
  try {
    response = await fetch(path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) })
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.')
  }
  if (response.ok && as === 'blob') return response.blob()
  const body = response.status === 204 ? null : await response.json().catch(() => null)
  if (!response.ok) throw new ApiError(response.status, body?.message ?? `The server answered ${response.status}.`)
  return body
}

let refreshing = null

/** True with new tokens, false when the sign-in is over; throws when the server cannot say (offline, 5xx, 429). */
function refresh() {
  const refreshToken = localStorage.getItem(REFRESH)
  if (!refreshToken) return Promise.resolve(false)
  refreshing ??= send('/api/auth/refresh/', { method: 'POST', json: { refreshToken } })
    .then(
      (pair) => (keepTokens(pair), true),
      (error) => {
        if (error.status === 0 || error.status === 429 || error.status >= 500) throw error
        return false
      },
    )
    .finally(() => (refreshing = null))
  return refreshing
}

const authorized = (path, options) => send(path, { ...options, token: localStorage.getItem(ACCESS) })

/** An authenticated call. Throws ApiError with the API's own message. */
export async function api(path, options = {}) {
  try {
    return await authorized(path, options)
  } catch (error) {
    if (error.status !== 401) throw error
  }
  try {
    if (await refresh()) return await authorized(path, options)
  } catch (error) {
    if (error.status !== 401) throw error
  }
  forgetTokens()
  const ended = new ApiError(401, 'Your session has ended. Please sign in again.')
  onSignedOut(ended.message)
  throw ended
}

export async function signIn(email, password) {
  const session = await send('/api/auth/login/', { method: 'POST', json: { email, password } })
  keepTokens(session)
  return session.user
}

/** Revokes the refresh token on the server (best effort) and forgets both tokens. */
export async function signOut() {
  const refreshToken = localStorage.getItem(REFRESH)
  forgetTokens()
  if (refreshToken) await send('/api/auth/logout/', { method: 'POST', json: { refreshToken } }).catch(() => {})
}

/** Builds a query string from the non-empty values of an object. */
export function query(params) {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  const text = search.toString()
  return text ? `?${text}` : ''
}
