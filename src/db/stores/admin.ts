// The admin lists' store interface and types: users, request logs and feedback, each read in
// bounded, keyset-paged slices, and the one change an admin makes to a user. It lives in src/db/stores/
// rather than src/admin/ because the store implementations (src/db/sqlite/, src/db/postgres/) sit below the
// runtime, which every feature imports: src/db importing src/admin would be an import cycle.
// Times are ms since the epoch; the admin service turns them into ISO strings.
import type { Role } from './accounts'
import type { StoredApiKey } from './keys'
import type { LogRow } from './telemetry'

/** A user as the admin sees one: the profile plus whether the account is active. */
export type AdminUser = {
  id: string
  email: string
  name: string
  avatarUrl: string | null
  role: Role
  provider: string
  createdAt: number
  lastLoginAt: number | null
  isActive: boolean
  /** The user's cap on requests in progress set by an admin (null: MAX_CONCURRENT_REQUESTS; 0: none). */
  maxConcurrentRequests: number | null
}

/** `search` matches email or name, as typed (no wildcards); `before` is the id to page from. */
export type UserFilter = { search?: string; role?: Role; active?: boolean; before?: string; limit: number }

/** `maxConcurrentRequests` null clears the user's own cap. */
export type UserChange = { role?: Role; isActive?: boolean; maxConcurrentRequests?: number | null }

/** A request log with its id and its user's email, as the log records it (see LogRow). */
export type AdminLog = Omit<LogRow, 'generated' | 'rollupOnly' | 'cached' | 'costSaved' | 'endUser' | 'metadata' | 'images'> & {
  id: number
  userEmail: string | null
  totalTokens: number
  cached: boolean
  costSaved: number
  endUser: string | null
  metadata: Record<string, string> | null
  images: number | null
}

/** `from` inclusive, `to` exclusive; `before` is the id to page from. */
export type LogFilter = {
  userId?: string
  model?: string
  /** Logged under one of these paths (one client API's). */
  paths?: readonly string[]
  status?: number
  outcome?: string
  from?: number
  to?: number
  before?: number
  limit: number
}

/** A rating with its user's email and the model of the completion rated. */
export type AdminFeedback = {
  id: number
  completionId: string
  userId: string
  userEmail: string | null
  model: string | null
  rating: number
  comment: string | null
  createdAt: number
  updatedAt: number
}

export type FeedbackFilter = { rating?: number; before?: number; limit: number }

/** An API key as the admin sees one: revoked keys too, with their user's email. */
export type AdminApiKey = StoredApiKey & { userEmail: string; revokedAt: number | null }

/** `userId`: one user's keys only; `before` is the key id to page from (ids are time-ordered). */
export type KeyFilter = { userId?: string; before?: string; limit: number }

export interface AdminStore {
  /** Newest first; `total` counts every user matching the filter, not only this page. */
  listUsers(filter: UserFilter): Promise<{ total: number; items: AdminUser[] }>
  findUser(id: string): Promise<AdminUser | undefined>
  /**
   * Changes a user's role and active flag in one transaction; deactivating also revokes every
   * session and API key of the user, at once and for good. Returns the user as changed.
   */
  updateUser(id: string, change: UserChange, now: number): Promise<AdminUser | undefined>
  /** Sets (null: clears) an API key's own cap on requests in progress; its user's id, or undefined when no key has this id. */
  setKeyConcurrency(keyId: string, max: number | null): Promise<string | undefined>
  /** Every user's API keys (or one user's), revoked ones included, newest first. */
  listKeys(filter: KeyFilter): Promise<AdminApiKey[]>
  findKey(id: string): Promise<AdminApiKey | undefined>
  /** Newest first. No total: counting millions of rows per page view is what makes peers slow. */
  listLogs(filter: LogFilter): Promise<AdminLog[]>
  findLog(id: number): Promise<AdminLog | undefined>
  /** Newest first; `total` counts every rating matching the filter. */
  listFeedback(filter: FeedbackFilter): Promise<{ total: number; items: AdminFeedback[] }>
}
