// The conversations feature: chats kept by the server for their owner (issue 15). These routes
// list, show, change, delete and export a user's own conversations; chat requests add to them
// through ./recording.ts. Admins see counts only (src/admin/), never the messages.
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import { integerCursor, oneOf, pageLimit } from '../http/schema'
import type { Runtime } from '../runtime'
import {
  ConversationChangeRequest,
  ConversationPage,
  ConversationView,
  ConversationWithMessages,
  conversationId,
  NewConversationRequest,
} from './model'
import {
  changeConversation,
  conversationWithMessages,
  createConversation,
  deleteAllConversations,
  deleteConversation,
  exportConversations,
  listConversations,
} from './service'

const tags = ['conversations']
const params = t.Object({ id: conversationId })
const exportQuery = t.Object({
  format: t.Optional(oneOf(['json', 'markdown'] as const)),
})
const exportDetail = (summary: string) => ({
  summary,
  tags,
  responses: {
    200: {
      description: 'A file (Content-Disposition: attachment)',
      content: { 'application/json': {}, 'text/markdown': {} },
    },
  },
})

export const conversations = (rt: Runtime) =>
  new Elysia({ name: 'conversations', prefix: '/api/conversations' })
    .use(authGuard(rt))
    .get('', ({ principal, query }) => listConversations(rt, principal.userId, query), {
      auth: true,
      query: t.Object({
        limit: pageLimit,
        cursor: t.Optional(t.String({ maxLength: 200, description: 'the nextCursor of the page before' })),
        archived: t.Optional(t.Boolean({ error: 'archived must be true or false' })),
        pinned: t.Optional(t.Boolean({ error: 'pinned must be true or false' })),
        q: t.Optional(t.String({ maxLength: 200, description: 'text to find (case-insensitive) in titles and messages', error: 'q must be at most 200 characters' })),
      }),
      response: ConversationPage,
      detail: { summary: 'Your conversations, most recently updated first', tags },
    })
    .post(
      '',
      async ({ principal, body, set }) => {
        set.status = 201
        return createConversation(rt, principal.userId, body)
      },
      {
        auth: true,
        body: NewConversationRequest,
        response: { 201: ConversationView },
        detail: { summary: 'Start a conversation (chat requests can also start one: conversationId "new")', tags },
      },
    )
    .delete('', ({ principal }) => deleteAllConversations(rt, principal.userId), {
      auth: true,
      response: t.Object({ deleted: t.Number() }),
      detail: { summary: 'Delete all of your conversations', tags },
    })
    .get('/export', ({ principal, query }) => exportConversations(rt, principal.userId, undefined, query.format ?? 'json'), {
      auth: true,
      query: exportQuery,
      detail: exportDetail('Export all of your conversations as JSON or Markdown'),
    })
    .get('/:id', ({ principal, params, query }) => conversationWithMessages(rt, principal.userId, params.id, query), {
      auth: true,
      params,
      query: t.Object({ limit: pageLimit, cursor: integerCursor }),
      response: ConversationWithMessages,
      detail: { summary: 'One of your conversations with a page of its messages, oldest first', tags },
    })
    .patch('/:id', ({ principal, params, body }) => changeConversation(rt, principal.userId, params.id, body), {
      auth: true,
      params,
      body: ConversationChangeRequest,
      response: ConversationView,
      detail: { summary: 'Rename, pin or archive one of your conversations', tags },
    })
    .delete(
      '/:id',
      async ({ principal, params, set }) => {
        await deleteConversation(rt, principal.userId, params.id)
        set.status = 204
      },
      { auth: true, params, detail: { summary: 'Delete one of your conversations and its messages', tags } },
    )
    .get(
      '/:id/export',
      ({ principal, params, query }) => exportConversations(rt, principal.userId, params.id, query.format ?? 'json'),
      { auth: true, params, query: exportQuery, detail: exportDetail('Export one of your conversations as JSON or Markdown') },
    )
