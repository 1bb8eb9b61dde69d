// Request and response schemas of the conversations API, and how a stored conversation or message
// is shown (camelCase, ISO times).
import { t } from 'elysia'
import type { Conversation, Message } from '../db/stores/conversations'
import { iso } from '../http/schema'

/** A conversation id as the server makes them (a UUID). */
export const conversationId = t.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  error: 'id must be a conversation id',
})

export const ConversationView = t.Object({
  id: t.String(),
  title: t.String(),
  model: t.Nullable(t.String()),
  createdAt: t.String({ format: 'date-time' }),
  updatedAt: t.String({ format: 'date-time' }),
  pinned: t.Boolean(),
  archived: t.Boolean(),
})

export const MessageView = t.Object({
  id: t.Number(),
  role: t.String(),
  content: t.String(),
  parts: t.Nullable(t.Array(t.Any(), { description: 'content parts (text, image_url, or image_omitted {bytes} for an image above CONVERSATION_MAX_IMAGE_BYTES)' })),
  toolCalls: t.Nullable(t.Array(t.Any())),
  toolCallId: t.Nullable(t.String()),
  reasoning: t.Nullable(t.String()),
  promptTokens: t.Nullable(t.Number()),
  completionTokens: t.Nullable(t.Number()),
  completionId: t.Nullable(t.String()),
  finishReason: t.Nullable(t.String()),
  state: t.String({ description: 'complete, cancelled (the client went away; kept as far as it got) or failed' }),
  createdAt: t.String({ format: 'date-time' }),
})

export const ConversationPage = t.Object({ items: t.Array(ConversationView), nextCursor: t.Nullable(t.String()) })

export const ConversationWithMessages = t.Composite([
  ConversationView,
  t.Object({ messages: t.Array(MessageView), nextCursor: t.Nullable(t.String({ description: 'the next page of messages' })) }),
])

export const NewConversationRequest = t.Object(
  {
    title: t.Optional(t.String({ maxLength: 200, error: 'title must be a string of at most 200 characters' })),
    model: t.Optional(t.String({ minLength: 1, maxLength: 200, error: 'model must be a model name' })),
  },
  { examples: [{ title: 'Trip to Lisbon', model: 'llama3.2' }] },
)

export const ConversationChangeRequest = t.Object(
  {
    title: t.Optional(t.String({ maxLength: 200, error: 'title must be a string of at most 200 characters' })),
    pinned: t.Optional(t.Boolean({ error: 'pinned must be true or false' })),
    archived: t.Optional(t.Boolean({ error: 'archived must be true or false' })),
  },
  { examples: [{ pinned: true }] },
)

export const conversationView = (c: Conversation): typeof ConversationView.static => ({
  id: c.id,
  title: c.title,
  model: c.model,
  createdAt: iso(c.createdAt)!,
  updatedAt: iso(c.updatedAt)!,
  pinned: c.pinned,
  archived: c.archived,
})

export const messageView = (m: Message): typeof MessageView.static => ({
  id: m.id,
  role: m.role,
  content: m.content,
  parts: m.parts,
  toolCalls: m.toolCalls,
  toolCallId: m.toolCallId,
  reasoning: m.reasoning,
  promptTokens: m.promptTokens,
  completionTokens: m.completionTokens,
  completionId: m.completionId,
  finishReason: m.finishReason,
  state: m.state,
  createdAt: iso(m.createdAt)!,
})
