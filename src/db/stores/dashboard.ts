// The dashboard's store: the rollup reads behind GET /api/dashboard/ and the counts of its
// health check. It lives in src/db/ rather than src/dashboard/ because src/db/store.ts needs it
// and the dashboard imports the runtime, which imports src/db/: the interface there would make
// an import cycle (test/import-cycles.test.ts).

/** A window of the dashboard: `scope` is a user id, or '' for everyone together; `step` the bucket size (ms). */
export type Slice = { scope: string; from: number; to: number; step: number }

/** One bucket of traffic (its start time in ms) and its sums. */
export type TrafficBucket = {
  bucket: number
  requests: number
  successes: number
  latencyMsSum: number
  tokens: number
  cost: number
  /** Requests that named a model (chat completions), those answered from the response cache, and the cost the cache saved. */
  completions: number
  cacheHits: number
  costSaved: number
}

/** The rollup dimensions with a most-frequent list. */
export type Dimension = 'models' | 'countries' | 'errors'

/** Sessions (sign-ins) that made requests in a slice, with their lifetime averages. */
export type SessionStats = { sessions: number; cost: number | null; requests: number | null }

export type ThreatStats = {
  total: number | null
  unresolved: number | null
  critical: number | null
  high: number | null
  types: { type: string; count: number }[]
}

/**
 * Everything but sessions comes from the rollups, so a read costs O(buckets) rows, whatever
 * the number of requests logged.
 */
export interface DashboardStore {
  /** Traffic per bucket of the slice; buckets without traffic are absent. */
  trafficSeries(slice: Slice): Promise<TrafficBucket[]>
  /** The most frequent values of one dimension in the slice, most requests first. */
  topValues(dimension: Dimension, slice: Slice, limit: number): Promise<{ value: string; requests: number }[]>
  /** Users with requests in the slice (a user's own view: 1 or 0). */
  activeUsers(slice: Slice): Promise<number>
  /** How many ratings of each value (1 to 5) were given in the slice. */
  ratingCounts(slice: Slice): Promise<{ rating: number; ratings: number }[]>
  sessionStats(slice: Slice): Promise<SessionStats>
  /** Threats logged in the slice (everyone's) and the `limit` most frequent types. */
  threatStats(slice: Slice, limit: number): Promise<ThreatStats>
  /** How many requests are logged in all, and since a time (from the rollups, not a count of rows). */
  logCounts(since: number): Promise<{ total: number; recent: number }>
}
