// The threat store's interface and types: the threat log (what the threat monitor records and
// admins list and resolve) and the sign-in unblock requests that `ai-studio unblock` leaves for
// running servers. It lives below the runtime (not in src/threats/) because the Store type,
// which the runtime holds, names it: a feature folder imports the runtime, so Store naming a
// type there would be an import cycle (test/import-cycles.test.ts). src/threats/store.ts
// re-exports it.

export const THREAT_TYPES = [
  'rate_limit',
  'brute_force',
  'invalid_token',
  'suspicious_content',
  'oversized_payload',
  'malformed_flood',
] as const
export type ThreatType = (typeof THREAT_TYPES)[number]
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]

export type ThreatInput = {
  type: ThreatType
  severity: Severity
  userId?: string
  apiKeyId?: string
  address?: string
  /** Cut to 500 characters when stored. */
  detail: string
}

/** A recorded threat; times in ms since the epoch. */
export type Threat = {
  id: number
  type: ThreatType
  severity: Severity
  userId: string | null
  apiKeyId: string | null
  address: string | null
  detail: string
  createdAt: number
  resolved: boolean
  resolvedBy: string | null
  resolvedAt: number | null
}

export type ThreatFilter = { type?: ThreatType; severity?: Severity; resolved?: boolean; beforeId?: number; limit: number }

/** A request to lift the sign-in blocks on an account and/or an address. */
export type Unblock = { email: string | null; address: string | null }

export interface ThreatStore {
  /**
   * Records a threat without making the caller wait: tried at once, and while another process
   * holds the database it is kept and retried (written before the store closes, if it can be).
   */
  record(threat: ThreatInput, at: number): void
  /** Newest first, paged by id (`beforeId` is the last id of the previous page); `total` ignores the paging. */
  list(filter: ThreatFilter): Promise<{ total: number; items: Threat[] }>
  /** Marks the threat resolved (an already resolved one keeps its first resolver); undefined if there is none with this id. */
  resolve(id: number, resolvedBy: string, now: number): Promise<Threat | undefined>
  /** Leaves an unblock request for the running servers; requests older than `keepMs` are removed. */
  requestUnblock(unblock: Unblock, now: number, keepMs: number): Promise<void>
  /** The id of the newest unblock request (0 when there is none). */
  newestUnblockId(): Promise<number>
  /** The unblock requests made after the one with this id, oldest first. */
  unblocksAfter(id: number): Promise<(Unblock & { id: number })[]>
}
