// The feedback request and response schemas.
import { t } from 'elysia'
import { integer } from '../http/schema'

export const feedbackBody = t.Object({
  completionId: t.String({ minLength: 1, maxLength: 200, description: 'the `id` of a chat completion you made' }),
  rating: integer({ minimum: 1, maximum: 5, error: 'must be an integer from 1 to 5' }),
  comment: t.Optional(t.Nullable(t.String({ maxLength: 2000 }), { error: 'must be a string of at most 2000 characters, or null' })),
}, {
  // Swagger UI's "Try it out" body: put the `id` of one of your chat completions in completionId.
  examples: [{ completionId: 'chatcmpl-0123456789abcdef0123456789abcdef', rating: 5, comment: 'Clear and correct.' }],
})

export const feedbackResponse = t.Object({
  id: t.Integer(),
  completionId: t.String(),
  rating: t.Integer(),
  comment: t.Nullable(t.String()),
  createdAt: t.String({ format: 'date-time' }),
  updatedAt: t.String({ format: 'date-time' }),
})
