// The store of the audit trail (src/audit/): administrative and security-relevant acts, each
// with its actor, target, time, client address, request id and the values before and after.
// Append-only: entries are added and read, never changed; the only removal is retention's
// (AUDIT_RETENTION_DAYS), of entries older than a time. Times in ms.

/** Who did what to what: an entry as it is recorded (the store gives it its id). */
export type AuditEntry = {
  at: number
  /** What happened, as `subject.verb` (`user.role_changed`, `api_key.revoked`): see src/audit/actions.ts. */
  action: string
  /** Who did it: a user's id, or null for the command line or an anonymous caller (a failed sign-in). */
  actorUserId: string | null
  actorEmail: string | null
  /** What it was done to (`user`, `api_key`, `threat`, `sign_in_block`) and its id or key. */
  targetType: string | null
  targetId: string | null
  ip: string | null
  requestId: string | null
  /** The values the act changed, before and after it (JSON-serialisable objects); null when there is nothing to show. */
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
}

export type StoredAuditEntry = AuditEntry & { id: number }

export type AuditFilter = {
  action?: string
  actorUserId?: string
  targetType?: string
  targetId?: string
  /** Entries at or after this time (ms). */
  from?: number
  /** Entries before this time (ms). */
  to?: number
  /** Keyset cursor: entries with an id below this one. */
  beforeId?: number
  limit: number
}

export interface AuditStore {
  /** Adds the entries, in one transaction. */
  append(entries: AuditEntry[]): Promise<void>
  /** The entries matching the filter, newest (highest id) first. */
  list(filter: AuditFilter): Promise<StoredAuditEntry[]>
  /** Retention only: deletes up to `limit` of the entries recorded before `before`; returns how many went. */
  pruneBefore(before: number, limit: number): Promise<number>
}
