// The admin's routes for API keys of every user (mounted under /api/admin, admin role only):
// the keys, revoked ones included, of everyone or of one user, and revoking any of them. A
// key's secret is never shown: only its prefix, as on the owner's own list (/api/keys).
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import { pageLimit } from '../http/schema'
import type { Runtime } from '../runtime'
import { originOf } from '../audit/service'
import { keysPage, revokeUserKey } from './service'

const tags = ['admin']
/** Ids are UUIDs; anything else is refused before the database is asked. */
const id = (what: string) => t.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$', error: `${what} must be an id` })

export const adminKeyRoutes = (rt: Runtime) =>
  new Elysia({ name: 'admin-keys', prefix: '/keys' })
    .use(authGuard(rt))
    .get('', ({ query }) => keysPage(rt, query), {
      auth: 'admin',
      query: t.Object({ userId: t.Optional(id('userId')), limit: pageLimit, cursor: t.Optional(id('cursor')) }),
      detail: {
        summary: 'API keys of every user, or of one (`userId`), revoked ones included, newest first (admin)',
        description:
          'Each key with its user, name, prefix, scopes (null: a full-power key made before scopes), models, times created, last used, ' +
          'expiring and revoked. Pages: `limit` (default 50) and `cursor`, the `nextCursor` of the page before.',
        tags,
      },
    })
    .delete('/:id', (context) => revokeUserKey(rt, originOf(rt, context, context.principal), context.params.id), {
      auth: 'admin',
      params: t.Object({ id: id('id') }),
      detail: { summary: 'Revoke any user’s API key; it stops working at once on every replica (admin)', tags },
    })
