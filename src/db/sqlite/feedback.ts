// The feedback store on SQLite. A rating is added to rollup_feedback in the same transaction;
// a changed rating is taken out of its old cell and added to its new one.
import type { Database } from 'bun:sqlite'
import { FeedbackRollup, type Rated } from '../rollups'
import type { Feedback, FeedbackStore } from '../stores/feedback'

type FeedbackRow = {
  id: number
  completion_id: string
  user_id: string
  rating: number
  comment: string | null
  created_at: number
  updated_at: number
}

const feedbackOf = (row: FeedbackRow): Feedback => ({
  id: row.id,
  completionId: row.completion_id,
  userId: row.user_id,
  rating: row.rating,
  comment: row.comment,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
})

export function sqliteFeedback(db: Database): FeedbackStore {
  /** Adds (sign 1) or takes out (sign -1) the ratings' counts in rollup_feedback; call inside a transaction. */
  function saveRollup(rows: Rated[], sign: 1 | -1) {
    const rollup = new FeedbackRollup()
    for (const row of rows) rollup.add(row, sign)
    const upsert = db.query(`
      INSERT INTO rollup_feedback AS t (grain, user_id, bucket, rating, ratings) VALUES (?1, ?2, ?3, ?4, ?5)
      ON CONFLICT (grain, user_id, bucket, rating) DO UPDATE SET ratings = t.ratings + excluded.ratings`)
    for (const cell of rollup.cells()) upsert.run(cell.grain, cell.userId, cell.bucket, cell.rating, cell.ratings)
  }

  return {
    async ownsCompletion(completionId, userId) {
      return !!db
        .query('SELECT 1 FROM request_logs WHERE completion_id = ?1 AND user_id = ?2 LIMIT 1')
        .get(completionId, userId)
    },

    async save(input) {
      return db.transaction(() => {
        const select = db.query<FeedbackRow, [string]>('SELECT * FROM feedback WHERE completion_id = ?')
        const existing = select.get(input.completionId)
        if (existing) {
          saveRollup([feedbackOf(existing)], -1)
          db.query('UPDATE feedback SET rating = ?2, comment = ?3, updated_at = ?4 WHERE id = ?1').run(
            existing.id,
            input.rating,
            input.comment,
            input.now,
          )
        } else
          db.query(
            'INSERT INTO feedback (completion_id, user_id, rating, comment, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)',
          ).run(input.completionId, input.userId, input.rating, input.comment, input.now)
        const feedback = feedbackOf(select.get(input.completionId)!)
        saveRollup([feedback], 1)
        return { feedback, created: !existing }
      })()
    },

    async addGenerated(rows) {
      db.transaction(() => {
        const insert = db.query(
          `INSERT INTO feedback (completion_id, user_id, rating, comment, created_at, updated_at, generated)
           VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1)`,
        )
        for (const row of rows) insert.run(row.completionId, row.userId, row.rating, row.comment, row.createdAt)
        saveRollup(rows, 1)
      })()
    },

    async deleteGenerated() {
      return db.transaction(() => {
        const rows = db
          .query<Rated, []>('SELECT user_id AS userId, rating, created_at AS createdAt FROM feedback WHERE generated = 1')
          .all()
        saveRollup(rows, -1)
        db.query('DELETE FROM rollup_feedback WHERE ratings <= 0').run()
        return db.query('DELETE FROM feedback WHERE generated = 1').run().changes
      })()
    },
  }
}
