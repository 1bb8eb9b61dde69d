// Rating a completion: only its maker may rate it, once; a second rating replaces the first.
import { HttpError } from '../http/errors'
import type { FeedbackStore } from './store'

export async function rateCompletion(
  feedbackStore: FeedbackStore,
  userId: string,
  input: { completionId: string; rating: number; comment?: string | null },
) {
  if (!(await feedbackStore.ownsCompletion(input.completionId, userId)))
    throw new HttpError(404, 'No completion with this completionId made by you was found', {
      param: 'completionId',
      code: 'completion_not_found',
    })
  const comment = input.comment?.trim() || null
  const { feedback, created } = await feedbackStore.save({ ...input, userId, comment, now: Date.now() })
  return {
    created,
    feedback: {
      id: feedback.id,
      completionId: feedback.completionId,
      rating: feedback.rating,
      comment: feedback.comment,
      createdAt: new Date(feedback.createdAt).toISOString(),
      updatedAt: new Date(feedback.updatedAt).toISOString(),
    },
  }
}
