// The feedback store: its interface and types are defined in src/db/stores/feedback.ts (below
// the runtime, so that the Store type can name them without an import cycle) and re-exported
// here; the runtime holds the implementation as `rt.store.feedback` (SQLite: src/db/sqlite/feedback.ts).
export type { Feedback, FeedbackInput, FeedbackStore, GeneratedRating } from '../db/stores/feedback'
