// What the conversations API does between its routes (./index.ts) and its store
// (rt.store.conversations): a user's own conversations only, listed newest first in keyset pages,
// shown with their messages, changed, deleted and exported. Another user's conversation is
// never found (404), whatever its id.
import type { Conversation, ConversationChanges, ListPosition } from '../db/stores/conversations'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { asJson, asMarkdown, type Exported } from './export'
import { conversationView, messageView } from './model'

const PAGE_SIZE = 50
const MESSAGE_PAGE_SIZE = 100
/** Messages read at a time while exporting. */
const EXPORT_BATCH = 1000

export const notFound = () =>
  new HttpError(404, 'You have no conversation with this id', { code: 'conversation_not_found' })

const badQuery = (field: string, problem: string) =>
  new HttpError(400, `Invalid query parameter '${field}': ${problem}`, { param: field, code: 'invalid_value' })

/** The list's cursor: where the last item of a page stands in newest-first order, opaque to clients. */
const cursorOf = (c: Conversation) => Buffer.from(`${c.updatedAt}.${c.id}`).toString('base64url')

function positionOf(cursor: string): ListPosition {
  const [ms, id] = Buffer.from(cursor, 'base64url').toString().split('.', 2)
  const updatedAt = Number(ms)
  if (!Number.isSafeInteger(updatedAt) || !id || id.length > 64) throw badQuery('cursor', 'must be the nextCursor of a page')
  return { updatedAt, id }
}

export type ListOptions = { limit?: number; cursor?: string; archived?: boolean; pinned?: boolean; q?: string }

export async function listConversations(rt: Runtime, userId: string, options: ListOptions) {
  const limit = options.limit ?? PAGE_SIZE
  const search = options.q?.trim()
  const items = await rt.store.conversations.list(userId, {
    limit,
    after: options.cursor === undefined ? undefined : positionOf(options.cursor),
    archived: options.archived,
    pinned: options.pinned,
    search: search || undefined,
  })
  return { items: items.map(conversationView), nextCursor: items.length === limit ? cursorOf(items.at(-1)!) : null }
}

export async function createConversation(rt: Runtime, userId: string, input: { title?: string; model?: string }) {
  const created = await rt.store.conversations.create(
    { userId, title: input.title?.trim() ?? '', model: input.model ?? null },
    Date.now(),
  )
  return conversationView(created)
}

/** The caller's conversation, or a 404. */
export async function ownConversation(rt: Runtime, userId: string, id: string) {
  const conversation = await rt.store.conversations.get(userId, id)
  if (!conversation) throw notFound()
  return conversation
}

export async function conversationWithMessages(
  rt: Runtime,
  userId: string,
  id: string,
  page: { limit?: number; cursor?: number },
) {
  const conversation = await ownConversation(rt, userId, id)
  const limit = page.limit ?? MESSAGE_PAGE_SIZE
  const messages = await rt.store.conversations.messages(id, limit, page.cursor)
  return {
    ...conversationView(conversation),
    messages: messages.map(messageView),
    nextCursor: messages.length === limit ? String(messages.at(-1)!.id) : null,
  }
}

export async function changeConversation(rt: Runtime, userId: string, id: string, changes: ConversationChanges) {
  const changed = await rt.store.conversations.update(
    userId,
    id,
    { ...changes, title: changes.title?.trim() },
    Date.now(),
  )
  if (!changed) throw notFound()
  return conversationView(changed)
}

export async function deleteConversation(rt: Runtime, userId: string, id: string) {
  if (!(await rt.store.conversations.delete(userId, id))) throw notFound()
}

export async function deleteAllConversations(rt: Runtime, userId: string) {
  return { deleted: await rt.store.conversations.deleteAll(userId) }
}

async function allMessages(rt: Runtime, conversation: Conversation): Promise<Exported> {
  const messages = []
  for (let afterId: number | undefined; ; ) {
    const batch = await rt.store.conversations.messages(conversation.id, EXPORT_BATCH, afterId)
    messages.push(...batch)
    if (batch.length < EXPORT_BATCH) return { conversation, messages }
    afterId = batch.at(-1)!.id
  }
}

export type ExportFormat = 'json' | 'markdown'

/** One conversation, or all of the user's (id undefined), as a file to download. */
export async function exportConversations(rt: Runtime, userId: string, id: string | undefined, format: ExportFormat) {
  const conversations: Conversation[] = []
  if (id !== undefined) conversations.push(await ownConversation(rt, userId, id))
  else
    for (let after: ListPosition | undefined; ; ) {
      const page = await rt.store.conversations.list(userId, { limit: 500, after })
      conversations.push(...page)
      if (page.length < 500) break
      after = page.at(-1)!
    }
  const exported = []
  for (const conversation of conversations) exported.push(await allMessages(rt, conversation))
  const name = id === undefined ? 'conversations' : `conversation-${id}`
  const [body, type, extension] =
    format === 'markdown' ? [asMarkdown(exported), 'text/markdown; charset=utf-8', 'md'] : [asJson(exported), 'application/json', 'json']
  return new Response(body, {
    headers: { 'content-type': type, 'content-disposition': `attachment; filename="${name}.${extension}"` },
  })
}
