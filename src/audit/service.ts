// The audit trail's service: `recordAudit` keeps an entry for each administrative or
// security-relevant act (src/audit/actions.ts lists them) without failing or delaying the
// request that did it: entries are queued and written in the background, in batches, retried
// with backoff while the database refuses them, and every one still queued is written when the
// runtime closes (a clean shutdown loses none). Readers (the admin API) flush the queue first,
// so an admin sees the act they just did. Also the pages and exports the admin API serves.
import type { Server } from 'bun'
import { Backoff, SHUTDOWN_RETRY_MS } from '../db/busy'
import type { AuditEntry, AuditFilter, StoredAuditEntry } from '../db/stores/audit'
import { DAY, HOUR } from '../http/dates'
import { clientAddress } from '../http/client-address'
import { iso } from '../http/schema'
import { inRounds } from '../background-rounds'
import { perRuntime, type Runtime } from '../runtime'
import type { AuditAction } from './actions'

/** Where an act came from: who, from which address, in which request. */
export type AuditOrigin = Pick<AuditEntry, 'actorUserId' | 'actorEmail' | 'ip' | 'requestId'>

/** The part of a route's context an origin is read from. */
export type RequestContext = {
  request: Request
  server: Pick<Server<unknown>, 'requestIP'> | null
  set: { headers: Record<string, unknown> }
}

/** The command line: no user, no address, no request. */
export const COMMAND_LINE: AuditOrigin = { actorUserId: null, actorEmail: null, ip: null, requestId: null }

/** The origin of an act done in this request, by this principal (none: an anonymous caller). */
export function originOf(rt: Runtime, context: RequestContext, actor?: { userId: string; email: string }): AuditOrigin {
  const requestId = context.set.headers['x-request-id']
  return {
    actorUserId: actor?.userId ?? null,
    actorEmail: actor?.email ?? null,
    ip: clientAddress(context.request, context.server, rt.config.trustProxy) ?? null,
    requestId: typeof requestId === 'string' && requestId ? requestId : null,
  }
}

/** What an act did: its action, its target, the values it changed. */
export type AuditAct = {
  action: AuditAction
  targetType: string | null
  targetId: string | null
  before?: Record<string, unknown> | null
  after?: Record<string, unknown> | null
}

/** Entries kept while the database refuses them: past this, the oldest go (and it is said). */
const MAX_QUEUED = 50_000
/** Entries written per transaction. */
const BATCH = 500

class AuditWriter {
  private queue: AuditEntry[] = []
  private writing: Promise<void> = Promise.resolve()
  private timer: Timer | undefined
  private readonly backoff = new Backoff()
  /** Entries still being prepared (a failed sign-in's account lookup): a flush waits for them. */
  private readonly preparing = new Set<Promise<unknown>>()
  /** Set once shutdown has written what it could: the database is closing, nothing more is tried. */
  private closed = false

  constructor(private readonly rt: Runtime) {}

  add(entry: AuditEntry) {
    if (this.closed) {
      console.error(`audit trail: an entry (${entry.action}) came after shutdown and was not written`)
      return
    }
    if (this.queue.length >= MAX_QUEUED) {
      this.queue.shift()
      console.error('audit trail: the database refuses writes and the queue is full; the oldest queued entry was dropped')
    }
    this.queue.push(entry)
    if (!this.backoff.waiting) this.schedule(0)
  }

  private schedule(delay: number) {
    if (this.closed) return
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      void this.flush().catch(() => {})
    }, delay)
    this.timer.unref?.()
  }

  /** Work that will add an entry: flushes wait for it. */
  prepare(work: Promise<unknown>) {
    const tracked = work.finally(() => this.preparing.delete(tracked))
    this.preparing.add(tracked)
  }

  /** Writes everything queued (one attempt); throws when the database refused it, leaving it queued for a retry. */
  flush(): Promise<void> {
    const done = (this.writing = this.writing.catch(() => {}).then(async () => {
      while (this.preparing.size) await Promise.allSettled(this.preparing)
      while (this.queue.length) {
        const batch = this.queue.splice(0, BATCH)
        try {
          await this.rt.store.audit.append(batch)
        } catch (error) {
          // Back at the front, in order; said when writing starts to fail, retried quietly after.
          this.queue.unshift(...batch)
          if (!this.backoff.waiting) console.error(`audit trail: writing ${batch.length} entries failed (${(error as Error).message}); will retry`)
          this.schedule(this.backoff.next())
          throw error
        }
        this.backoff.reset()
      }
    }))
    return done
  }

  /** Shutdown: keeps trying until everything queued is written or the time is up. */
  async close() {
    clearTimeout(this.timer)
    this.timer = undefined
    const deadline = Date.now() + SHUTDOWN_RETRY_MS
    for (;;) {
      try {
        await this.flush()
        break
      } catch {
        clearTimeout(this.timer)
        this.timer = undefined
        if (Date.now() >= deadline) break
        await Bun.sleep(50)
      }
    }
    this.closed = true
    clearTimeout(this.timer)
    if (this.queue.length) console.error(`audit trail: ${this.queue.length} entries were not written`)
  }
}

const writerOf = perRuntime((rt) => new AuditWriter(rt))

/** Records an act: queued at once, written in the background; never throws, never waits. */
export function recordAudit(rt: Runtime, origin: AuditOrigin, act: AuditAct): void {
  try {
    writerOf(rt).add({ at: Date.now(), ...origin, ...act, before: act.before ?? null, after: act.after ?? null })
  } catch (error) {
    console.error('audit trail: an entry could not be queued:', (error as Error).message)
  }
}

/**
 * A failed sign-in. The email given is the target only when it names an account: what an
 * anonymous caller typed is otherwise not stored (it may be anything, a password typed in the
 * wrong field included). Looked up in the background, off the request path.
 */
export function recordFailedSignIn(rt: Runtime, origin: AuditOrigin, email: string): void {
  const failed = (user: { id: string; email: string } | undefined) =>
    recordAudit(rt, origin, { action: 'sign_in.failed', targetType: user ? 'user' : null, targetId: user?.id ?? null, after: user ? { email: user.email } : null })
  writerOf(rt).prepare(rt.store.accounts.findUserByEmail(email).then(failed, () => failed(undefined)))
}

/** Writes the entries still queued: readers call it so that the list shows every act done so far. */
export const flushAudit = (rt: Runtime) => writerOf(rt).flush().catch(() => {})

export type AuditQuery = Omit<AuditFilter, 'from' | 'to' | 'beforeId' | 'limit'> & { from?: number; to?: number }

export const auditView = (entry: StoredAuditEntry) => ({ ...entry, at: iso(entry.at)! })

export async function auditPage(rt: Runtime, query: AuditQuery & { limit: number; cursor?: number }) {
  await flushAudit(rt)
  const { limit, cursor, ...filter } = query
  return (await rt.store.audit.list({ ...filter, beforeId: cursor, limit })).map(auditView)
}

/** Every entry matching the query, newest first, a page at a time (the export streams them). */
export async function* auditEntries(rt: Runtime, query: AuditQuery, pageSize = 1_000): AsyncGenerator<StoredAuditEntry> {
  await flushAudit(rt)
  let beforeId: number | undefined
  for (;;) {
    const page = await rt.store.audit.list({ ...query, beforeId, limit: pageSize })
    yield* page
    if (page.length < pageSize) return
    beforeId = page.at(-1)!.id
  }
}

/** Entries deleted per statement by retention: a few milliseconds of work. */
const PRUNE_BATCH = 2_000

/**
 * AUDIT_RETENTION_DAYS: deletes the entries older than that, a batch at a time; how many went.
 * 0 (the default) keeps every entry. The only delete the audit trail knows.
 */
export async function pruneExpiredAudit(rt: Runtime, now = Date.now()): Promise<number> {
  const days = rt.config.auditRetentionDays
  if (!days) return 0
  let pruned = 0
  for (let batch = PRUNE_BATCH; batch === PRUNE_BATCH; pruned += batch) batch = await rt.store.audit.pruneBefore(now - days * DAY, PRUNE_BATCH)
  return pruned
}

/** Runs retention a second after start, then daily (hourly again after a failure), as the request log's (src/telemetry/retention.ts). */
export function pruneOldAudit(rt: Runtime): void {
  if (!rt.config.auditRetentionDays) return
  inRounds(
    rt,
    async () => {
      try {
        await pruneExpiredAudit(rt)
        return true
      } catch (error) {
        // Busy (another writer) or closing: tried again within the hour.
        console.error(`audit retention: pruning failed (${(error as Error).message}); will retry`)
        return false
      }
    },
    DAY,
    HOUR,
  )
}
