// The admin's routes for the audit trail (mounted under /api/admin, admin role only): the
// entries, newest first, filtered and keyset-paged, and the same as a CSV or JSON download.
// Read-only by design: no route changes or deletes an entry (the table's trigger refuses
// updates; retention is the only delete). Admin routes, so they live here: the audit feature
// (src/audit/) knows no guard, as the sign-in and key routes that record acts use it.
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import { parseDate } from '../http/dates'
import { HttpError } from '../http/errors'
import { integerCursor, oneOf, pageLimit, withCursor } from '../http/schema'
import type { Runtime } from '../runtime'
import { AUDIT_ACTIONS } from '../audit/actions'
import { exportStream } from '../audit/export'
import { auditPage, pruneOldAudit, type AuditQuery } from '../audit/service'

const PAGE_SIZE = 50
const tags = ['admin']

const filters = {
  action: t.Optional(oneOf(AUDIT_ACTIONS)),
  actorUserId: t.Optional(t.String({ maxLength: 200, error: 'actorUserId must be a user id' })),
  targetType: t.Optional(t.String({ maxLength: 50, error: 'targetType must be a short name (user, api_key, threat, sign_in_block)' })),
  targetId: t.Optional(t.String({ maxLength: 320, error: 'targetId must be at most 320 characters' })),
  from: t.Optional(t.String({ format: 'date-time', error: 'from must be an ISO date-time' })),
  to: t.Optional(t.String({ format: 'date-time', error: 'to must be an ISO date-time' })),
}

type Filters = { action?: (typeof AUDIT_ACTIONS)[number]; actorUserId?: string; targetType?: string; targetId?: string; from?: string; to?: string }

function millis(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDate(value)
  if (Number.isNaN(ms)) throw new HttpError(400, `Invalid query field '${field}': expected an ISO date`)
  return ms
}

const auditQuery = ({ from, to, ...rest }: Filters): AuditQuery => ({ ...rest, from: millis(from, 'from'), to: millis(to, 'to') })

const filterHelp =
  'Filters: `action`, `actorUserId`, `targetType` with `targetId`, and `from` (inclusive) / `to` (exclusive) as ISO date-times.'

export const auditRoutes = (rt: Runtime) => {
  pruneOldAudit(rt)
  return new Elysia({ name: 'audit', prefix: '/audit' })
    .use(authGuard(rt))
    .get(
      '',
      async ({ query }) => {
        const size = query.limit ?? PAGE_SIZE
        const { limit: _limit, cursor, ...rest } = query
        return withCursor({ items: await auditPage(rt, { ...auditQuery(rest), limit: size, cursor }) }, size)
      },
      {
        auth: 'admin',
        query: t.Object({ ...filters, limit: pageLimit, cursor: integerCursor }),
        detail: {
          summary: 'The audit trail, newest first, filtered and paged (admin)',
          description:
            'Administrative and security-relevant acts (sign-ins, role and activation changes, API keys created, revoked and first used, ' +
            'concurrency caps, threats resolved, sign-in blocks lifted), each with its actor, target, time, client address, request id ' +
            `and the values before and after. ${filterHelp} Pages: \`limit\` (default 50, at most 200) and \`cursor\`, the \`nextCursor\` ` +
            'of the page before (null on the last page). Entries cannot be changed or deleted through any API.',
          tags,
        },
      },
    )
    .get('/actions', () => ({ data: AUDIT_ACTIONS }), {
      auth: 'admin',
      detail: { summary: 'The acts the audit trail records, as the `action` filter names them (admin)', tags },
    })
    .get(
      '/export',
      ({ query, set }) => {
        const { format = 'json', ...rest } = query
        const stamp = new Date().toISOString().replace(/[:.]/g, '-')
        set.headers['content-type'] = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8'
        set.headers['content-disposition'] = `attachment; filename="audit-${stamp}.${format}"`
        return new Response(exportStream(rt, auditQuery(rest), format), { headers: set.headers as Record<string, string> })
      },
      {
        auth: 'admin',
        query: t.Object({ ...filters, format: t.Optional(oneOf(['csv', 'json'] as const)) }),
        detail: {
          summary: 'Download the audit trail as CSV or JSON (admin)',
          description:
            `Every entry matching the filters, newest first, streamed (no size cap). ${filterHelp} ` +
            '`format=json` (the default): an array of the entries as the list returns them. `format=csv`: a header row ' +
            '(id, at, action, actorUserId, actorEmail, targetType, targetId, ip, requestId, before, after), fields quoted as RFC 4180 says, ' +
            '`before` and `after` as JSON text; a field starting with = + - @ gets a leading apostrophe so that spreadsheets do not run it.',
          tags,
        },
      },
    )
}
