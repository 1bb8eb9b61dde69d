// The server's root has no page of its own: a browser opened on http://host:8000/ lands on
// the admin UI instead of a JSON 404. 302 (not 308) so that browsers do not cache it for good.
import { Elysia } from 'elysia'

export const rootRedirect = new Elysia({ name: 'root-redirect' }).get('/', ({ redirect }) => redirect('/admin', 302), {
  detail: { hide: true },
})
