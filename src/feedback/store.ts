// The feedback table's SQL. A rating is added to rollup_feedback in the same transaction;
// a changed rating is taken out of its old row and added to its new one.
import type { Database } from 'bun:sqlite'
import { applyRollups, type Scope } from '../telemetry/rollups'

export type FeedbackRow = {
  id: number
  completion_id: string
  user_id: string
  rating: number
  comment: string | null
  created_at: number
  updated_at: number
}

const rollup = ({ user, filter }: Scope, where: string) => `
  INSERT INTO rollup_feedback AS t (grain, user_id, bucket, rating, ratings)
  SELECT ?1, ${user}, f.created_at - f.created_at % ?1, f.rating, ?2 * count(*)
    FROM feedback f WHERE ${where} ${filter} GROUP BY 2, 3, 4
  ON CONFLICT (grain, user_id, bucket, rating) DO UPDATE SET ratings = t.ratings + excluded.ratings`

const rollUp = (db: Database, sign: 1 | -1, where: string, params: (string | number)[]) =>
  applyRollups(db, 'f', [rollup], sign, where, params)

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
    const existing = db.query<{ id: number }, [string]>('SELECT id FROM feedback WHERE completion_id = ?').get(input.completionId)
    if (existing) {
      rollUp(db, -1, 'f.id = ?3', [existing.id])
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
    const feedback = db
      .query<FeedbackRow, [string]>('SELECT * FROM feedback WHERE completion_id = ?')
      .get(input.completionId)!
    rollUp(db, 1, 'f.id = ?3', [feedback.id])
    return { feedback, created: !existing }
  })()
}

/** Generated ratings (populate-dashboard-data), added in bulk. */
export async function insertGeneratedFeedback(
  db: Database,
  rows: { completionId: string; userId: string; rating: number; comment: string | null; createdAt: number }[],
): Promise<void> {
  db.transaction(() => {
    const before = db.query<{ id: number }, []>('SELECT coalesce(max(id), 0) AS id FROM feedback').get()!.id
    const insert = db.query(
      `INSERT INTO feedback (completion_id, user_id, rating, comment, created_at, updated_at, generated)
       VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1)`,
    )
    for (const row of rows) insert.run(row.completionId, row.userId, row.rating, row.comment, row.createdAt)
    rollUp(db, 1, 'f.id > ?3 AND f.id <= ?4', [before, before + rows.length])
  })()
}

export async function deleteGeneratedFeedback(db: Database): Promise<number> {
  return db.transaction(() => {
    rollUp(db, -1, 'f.generated = 1', [])
    db.query('DELETE FROM rollup_feedback WHERE ratings <= 0').run()
    return db.query('DELETE FROM feedback WHERE generated = 1').run().changes
  })()
}
