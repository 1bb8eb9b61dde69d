// POST /api/feedback/: a 1–5 rating (and comment) of a chat completion, for the dashboard.
import { Elysia } from 'elysia'
import { authGuard } from '../auth/guard'
import type { Runtime } from '../runtime'
import { logWriter } from '../telemetry/writer'
import { feedbackBody, feedbackResponse } from './model'
import { rateCompletion } from './service'

export const feedback = (rt: Runtime) => {
  const log = logWriter(rt)
  return new Elysia({ name: 'feedback', prefix: '/api/feedback' }).use(authGuard(rt)).post(
    '',
    async ({ body, principal, set }) => {
      // The completion's log row may still be waiting in the current batch.
      await log.flush()
      const { created, feedback } = await rateCompletion(rt.store.feedback, principal.userId, body)
      set.status = created ? 201 : 200
      return feedback
    },
    {
      auth: true,
      body: feedbackBody,
      response: { 200: feedbackResponse, 201: feedbackResponse },
      detail: {
        summary: 'Rate a chat completion',
        description: 'One rating per completion: 201 for a new one, 200 when it replaces an earlier one. 404 unless you made the completion.',
        tags: ['feedback'],
      },
    },
  )
}
