// Rating a completion: only its maker may rate it, once; a second rating replaces the first.
import type { Database } from 'bun:sqlite'
import { HttpError } from '../http/errors'
import { ownsCompletion, saveFeedback } from './store'

export async function rateCompletion(
  db: Database,
  userId: string,
  input: { completionId: string; rating: number; comment?: string | null },
) {
  if (!(await ownsCompletion(db, input.completionId, userId)))
    throw new HttpError(404, 'No completion with this completionId made by you was found', {
      param: 'completionId',
      code: 'completion_not_found',
    })
  const comment = input.comment?.trim() || null
  const { feedback, created } = await saveFeedback(db, { ...input, userId, comment, now: Date.now() })
  return {
    created,
    feedback: {
      id: feedback.id,
      completionId: feedback.completion_id,
      rating: feedback.rating,
      comment: feedback.comment,
      createdAt: new Date(feedback.created_at).toISOString(),
      updatedAt: new Date(feedback.updated_at).toISOString(),
    },
  }
}
