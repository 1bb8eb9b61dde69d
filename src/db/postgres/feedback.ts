// The feedback store on PostgreSQL. One rating per completion is held by the unique constraint
// on completion_id (an upsert); a rating is added to rollup_feedback in the same transaction,
// and a changed rating is taken out of its old cell and added to its new one. Saves of one
// completion's rating take turns (a transaction-scoped advisory lock), so that the rating taken
// out is the one replaced.
import type { SQL } from 'bun'
import { FeedbackRollup, type Rated } from '../rollups'
import type { Feedback, FeedbackStore } from '../stores/feedback'
import { bulkInsert, cellAt, rollupUpsert, type CellAt } from './bulk'

type FeedbackRow = {
  id: string
  completion_id: string
  user_id: string
  rating: number
  comment: string | null
  created_at: Date
  updated_at: Date
}

const feedbackOf = (row: FeedbackRow): Feedback => ({
  id: Number(row.id),
  completionId: row.completion_id,
  userId: row.user_id,
  rating: row.rating,
  comment: row.comment,
  createdAt: row.created_at.getTime(),
  updatedAt: row.updated_at.getTime(),
})

const ratedOf = (row: Pick<FeedbackRow, 'user_id' | 'rating' | 'created_at'>): Rated => ({
  userId: row.user_id,
  rating: row.rating,
  createdAt: row.created_at.getTime(),
})

const addRatings = rollupUpsert<CellAt & { rating: number; ratings: number }>(
  'rollup_feedback',
  { ...cellAt, rating: ['integer', (cell) => cell.rating] },
  { ratings: ['bigint', (cell) => cell.ratings] },
)

/** Adds (sign 1) or takes out (sign -1) the ratings' counts in rollup_feedback; call inside a transaction. */
function saveRollup(tx: SQL, changes: [Rated, 1 | -1][]) {
  const rollup = new FeedbackRollup()
  for (const [row, sign] of changes) rollup.add(row, sign)
  return addRatings(tx, rollup.cells())
}

const insertGenerated = bulkInsert<Rated & { completionId: string; comment: string | null }>('feedback', {
  completion_id: ['text', (row) => row.completionId],
  user_id: ['text', (row) => row.userId],
  rating: ['integer', (row) => row.rating],
  comment: ['text', (row) => row.comment],
  created_at: ['timestamptz', (row) => new Date(row.createdAt)],
  updated_at: ['timestamptz', (row) => new Date(row.createdAt)],
  generated: ['boolean', () => true],
})

export function postgresFeedback(sql: SQL): FeedbackStore {
  return {
    async ownsCompletion(completionId, userId) {
      const rows = await sql`SELECT 1 FROM request_logs WHERE completion_id = ${completionId} AND user_id = ${userId} LIMIT 1`
      return rows.length > 0
    },

    async save(input) {
      return sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${input.completionId}, 0))`
        const [old] = (await tx`SELECT user_id, rating, created_at FROM feedback WHERE completion_id = ${input.completionId}`) as FeedbackRow[]
        const now = new Date(input.now)
        const [row] = (await tx`
          INSERT INTO feedback AS f (completion_id, user_id, rating, comment, created_at, updated_at)
          VALUES (${input.completionId}, ${input.userId}, ${input.rating}, ${input.comment}, ${now}, ${now})
          ON CONFLICT (completion_id) DO UPDATE SET rating = excluded.rating, comment = excluded.comment, updated_at = excluded.updated_at
          RETURNING f.*`) as FeedbackRow[]
        const feedback = feedbackOf(row!)
        await saveRollup(tx, old ? [[ratedOf(old), -1], [feedback, 1]] : [[feedback, 1]])
        // Under the lock no other save can come between the read and the upsert.
        return { feedback, created: !old }
      })
    },

    async addGenerated(rows) {
      if (rows.length === 0) return
      await sql.begin(async (tx) => {
        await insertGenerated(tx, rows)
        await saveRollup(tx, rows.map((row) => [row, 1]))
      })
    },

    async deleteGenerated() {
      return sql.begin(async (tx) => {
        // The ratings this transaction deletes are the ones it takes out of the rollup.
        const rows = (await tx`DELETE FROM feedback WHERE generated RETURNING user_id, rating, created_at`) as FeedbackRow[]
        await saveRollup(tx, rows.map((row) => [ratedOf(row), -1]))
        await tx`DELETE FROM rollup_feedback WHERE ratings <= 0`
        return rows.length
      })
    },
  }
}
