// The feedback table's SQL. A rating is added to rollup_feedback in the same transaction;
// a changed rating is taken out of its old cell and added to its new one.
import type { Database } from 'bun:sqlite'
import { FeedbackRollup } from '../telemetry/rollups'

export type FeedbackRow = {
  id: number
  completion_id: string
  user_id: string
  rating: number
  comment: string | null
  created_at: number
  updated_at: number
}

type Rated = { userId: string; rating: number; createdAt: number }

function saveRollup(db: Database, rows: Rated[], sign: 1 | -1) {
  const rollup = new FeedbackRollup()
  for (const row of rows) rollup.add(row, sign)
  const upsert = db.query(`
    INSERT INTO rollup_feedback AS t (grain, user_id, bucket, rating, ratings) VALUES (?1, ?2, ?3, ?4, ?5)
    ON CONFLICT (grain, user_id, bucket, rating) DO UPDATE SET ratings = t.ratings + excluded.ratings`)
  for (const cell of rollup.cells.values()) upsert.run(cell.grain, cell.userId, cell.bucket, cell.rating, cell.ratings)
}

const rated = (row: FeedbackRow): Rated => ({ userId: row.user_id, rating: row.rating, createdAt: row.created_at })

/** Whether this user made the completion (its request log row names them). */
export async function ownsCompletion(db: Database, completionId: string, userId: string): Promise<boolean> {
  return !!db
    .query('SELECT 1 FROM request_logs WHERE completion_id = ?1 AND user_id = ?2 LIMIT 1')
    .get(completionId, userId)
}

/** Inserts the rating, or replaces the one already given for this completion. */
export async function saveFeedback(
  db: Database,
  input: { completionId: string; userId: string; rating: number; comment: string | null; now: number },
): Promise<{ feedback: FeedbackRow; created: boolean }> {
  return db.transaction(() => {
    const select = db.query<FeedbackRow, [string]>('SELECT * FROM feedback WHERE completion_id = ?')
    const existing = select.get(input.completionId)
    if (existing) {
      saveRollup(db, [rated(existing)], -1)
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
    const feedback = select.get(input.completionId)!
    saveRollup(db, [rated(feedback)], 1)
    return { feedback, created: !existing }
  })()
}

/** Generated ratings (populate-dashboard-data), added in bulk. */
export async function insertGeneratedFeedback(
  db: Database,
  rows: (Rated & { completionId: string; comment: string | null })[],
): Promise<void> {
  db.transaction(() => {
    const insert = db.query(
      `INSERT INTO feedback (completion_id, user_id, rating, comment, created_at, updated_at, generated)
       VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1)`,
    )
    for (const row of rows) insert.run(row.completionId, row.userId, row.rating, row.comment, row.createdAt)
    saveRollup(db, rows, 1)
  })()
}

export async function deleteGeneratedFeedback(db: Database): Promise<number> {
  return db.transaction(() => {
    const rows = db
      .query<Rated, []>('SELECT user_id AS userId, rating, created_at AS createdAt FROM feedback WHERE generated = 1')
      .all()
    saveRollup(db, rows, -1)
    db.query('DELETE FROM rollup_feedback WHERE ratings <= 0').run()
    return db.query('DELETE FROM feedback WHERE generated = 1').run().changes
  })()
}
