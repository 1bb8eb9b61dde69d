// The feedback store's interface and types: ratings of chat completions, one per completion.
// It lives below the runtime (not in src/feedback/) because the Store type, which the runtime
// holds, names it: a feature folder imports the runtime, so Store naming a type there would be
// an import cycle (test/import-cycles.test.ts). src/feedback/store.ts re-exports it.

/** A rating as stored; times in ms since the epoch. */
export type Feedback = {
  id: number
  completionId: string
  userId: string
  rating: number
  comment: string | null
  createdAt: number
  updatedAt: number
}

export type FeedbackInput = { completionId: string; userId: string; rating: number; comment: string | null; now: number }

/** A rating made up by populate-dashboard-data (stored with generated = 1). */
export type GeneratedRating = { completionId: string; userId: string; rating: number; comment: string | null; createdAt: number }

/** Ratings, kept in the rollups (rollup_feedback) in the same transaction as the rows. */
export interface FeedbackStore {
  /** Whether this user made the completion (its request log row names them). */
  ownsCompletion(completionId: string, userId: string): Promise<boolean>
  /** Inserts the rating, or replaces the one already given for this completion (`created` says which). */
  save(input: FeedbackInput): Promise<{ feedback: Feedback; created: boolean }>
  /** Generated ratings, added in bulk. */
  addGenerated(rows: GeneratedRating[]): Promise<void>
  /** Removes every generated rating (and takes it out of the rollups); returns how many. */
  deleteGenerated(): Promise<number>
}
