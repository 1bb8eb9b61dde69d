// The conversations store on SQLite: JSON as text, booleans as 0/1, message ids from AUTOINCREMENT.
import type { Database } from 'bun:sqlite'
import { containing } from '../like'
import type { Conversation, ConversationStore, Message, NewMessage } from '../stores/conversations'

type ConversationRow = {
  id: string
  user_id: string
  title: string
  model: string | null
  created_at: number
  updated_at: number
  pinned: number
  archived: number
}

type MessageRow = {
  id: number
  conversation_id: string
  role: string
  content: string
  parts: string | null
  tool_calls: string | null
  tool_call_id: string | null
  reasoning: string | null
  prompt_tokens: number | null
  completion_tokens: number | null
  completion_id: string | null
  finish_reason: string | null
  state: Message['state']
  created_at: number
}

const conversationColumns = 'id, user_id, title, model, created_at, updated_at, pinned, archived'

const conversationOf = (row: ConversationRow): Conversation => ({
  id: row.id,
  userId: row.user_id,
  title: row.title,
  model: row.model,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  pinned: row.pinned === 1,
  archived: row.archived === 1,
})

const json = (text: string | null) => (text === null ? null : JSON.parse(text))

const messageOf = (row: MessageRow): Message => ({
  id: row.id,
  conversationId: row.conversation_id,
  role: row.role,
  content: row.content,
  parts: json(row.parts),
  toolCalls: json(row.tool_calls),
  toolCallId: row.tool_call_id,
  reasoning: row.reasoning,
  promptTokens: row.prompt_tokens,
  completionTokens: row.completion_tokens,
  completionId: row.completion_id,
  finishReason: row.finish_reason,
  state: row.state,
  createdAt: row.created_at,
})

/** How many of the newest conversations search reads message by message before asking the index. */
const SEARCH_WALK = 100

export function sqliteConversations(db: Database): ConversationStore {
  const insertMessage = db.query<MessageRow, any[]>(
    `INSERT INTO conversation_messages (conversation_id, role, content, parts, tool_calls, tool_call_id, reasoning,
       prompt_tokens, completion_tokens, completion_id, finish_reason, state, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
  )
  const append = db.transaction((conversationId: string, messages: NewMessage[], now: number, title?: string) => {
    const stored = messages.map((m) =>
      messageOf(
        insertMessage.get(
          conversationId, m.role, m.content, m.parts === null ? null : JSON.stringify(m.parts),
          m.toolCalls === null ? null : JSON.stringify(m.toolCalls), m.toolCallId, m.reasoning, m.promptTokens,
          m.completionTokens, m.completionId, m.finishReason, m.state, now,
        )!,
      ),
    )
    db.query(
      `UPDATE conversations SET updated_at = max(updated_at, ?), title = CASE WHEN title = '' AND ? IS NOT NULL THEN ? ELSE title END WHERE id = ?`,
    ).run(now, title ?? null, title ?? null, conversationId)
    return stored
  })

  return {
    async create(c, now) {
      return conversationOf(
        db
          .query<ConversationRow, [string, string, string, string | null, number, number]>(
            `INSERT INTO conversations (id, user_id, title, model, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
             RETURNING ${conversationColumns}`,
          )
          .get(Bun.randomUUIDv7(), c.userId, c.title, c.model, now, now)!,
      )
    },
    async get(userId, id) {
      const row = db
        .query<ConversationRow, [string, string]>(`SELECT ${conversationColumns} FROM conversations WHERE id = ? AND user_id = ?`)
        .get(id, userId)
      return row ? conversationOf(row) : undefined
    },
    async list(userId, q) {
      const where = ['user_id = ?']
      const args: (string | number)[] = [userId]
      if (q.archived !== undefined) where.push('archived = ?'), args.push(q.archived ? 1 : 0)
      if (q.pinned !== undefined) where.push('pinned = ?'), args.push(q.pinned ? 1 : 0)
      if (q.after) where.push('(updated_at, id) < (?, ?)'), args.push(q.after.updatedAt, q.after.id)
      const page = (from: string, condition: string, conditionArgs: (string | number)[], limit: number) =>
        db
          .query<ConversationRow, (string | number)[]>(
            `SELECT ${conversationColumns} FROM ${from} WHERE ${condition} ORDER BY updated_at DESC, id DESC LIMIT ?`,
          )
          .all(...conditionArgs, limit)
          .map(conversationOf)
      const mine = where.join(' AND ')
      if (!q.search) return page('conversations', mine, args, q.limit)

      // Text found in many messages: reading the newest conversations' messages fills the page at
      // once. Text found in few or none: that walk would read every message the user has, so it
      // stops after the newest SEARCH_WALK conversations and the trigram index (0013) names the
      // older ones whose messages hold the text (text under three characters has no trigram: the
      // walk goes on). Either way the same page, newest first.
      const like = containing(q.search)
      const walk = `title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM conversation_messages m
        WHERE m.conversation_id = c.id AND m.content LIKE ? ESCAPE '\\')`
      const newest = `(SELECT * FROM conversations WHERE ${mine} ORDER BY updated_at DESC, id DESC LIMIT ${SEARCH_WALK}) c`
      const found = page(newest, walk, [...args, like, like], q.limit)
      const edge = db
        .query<{ updated_at: number; id: string }, (string | number)[]>(
          `SELECT updated_at, id FROM conversations WHERE ${mine} ORDER BY updated_at DESC, id DESC LIMIT 1 OFFSET ${SEARCH_WALK - 1}`,
        )
        .get(...args)
      if (found.length === q.limit || !edge) return found
      const older = `${mine} AND (updated_at, id) < (?, ?)`
      const rest = [...args, edge.updated_at, edge.id]
      const more = [...q.search].length < 3
        ? page('conversations c', `${older} AND (${walk})`, [...rest, like, like], q.limit - found.length)
        : page(
            'conversations c',
            `${older} AND (title LIKE ? ESCAPE '\\' OR c.id IN (SELECT m.conversation_id FROM conversation_messages_search s
               JOIN conversation_messages m ON m.id = s.rowid WHERE conversation_messages_search MATCH ?))`,
            [...rest, like, `"${q.search.replaceAll('"', '""')}"`],
            q.limit - found.length,
          )
      return [...found, ...more]
    },
    async update(userId, id, changes, now) {
      const row = db
        .query<ConversationRow, [string | null, number | null, number | null, number, string, string]>(
          `UPDATE conversations SET title = coalesce(?, title), pinned = coalesce(?, pinned), archived = coalesce(?, archived),
             updated_at = max(updated_at, ?)
           WHERE id = ? AND user_id = ? RETURNING ${conversationColumns}`,
        )
        .get(
          changes.title ?? null,
          changes.pinned === undefined ? null : changes.pinned ? 1 : 0,
          changes.archived === undefined ? null : changes.archived ? 1 : 0,
          now, id, userId,
        )
      return row ? conversationOf(row) : undefined
    },
    async delete(userId, id) {
      return db.query('DELETE FROM conversations WHERE id = ? AND user_id = ?').run(id, userId).changes === 1
    },
    async deleteAll(userId) {
      return db.query('DELETE FROM conversations WHERE user_id = ?').run(userId).changes
    },
    async messages(conversationId, limit, afterId) {
      return db
        .query<MessageRow, [string, number, number]>(
          'SELECT * FROM conversation_messages WHERE conversation_id = ? AND id > ? ORDER BY id LIMIT ?',
        )
        .all(conversationId, afterId ?? 0, limit)
        .map(messageOf)
    },
    async lastMessages(conversationId, count) {
      return db
        .query<MessageRow, [string, number]>(
          'SELECT * FROM conversation_messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?',
        )
        .all(conversationId, count)
        .map(messageOf)
        .reverse()
    },
    async append(conversationId, messages, now, title) {
      return append(conversationId, messages, now, title)
    },
    async countByUser(userIds) {
      if (userIds.length === 0) return new Map()
      const rows = db
        .query<{ user_id: string; n: number }, string[]>(
          `SELECT user_id, count(*) AS n FROM conversations WHERE user_id IN (${userIds.map(() => '?').join(', ')}) GROUP BY user_id`,
        )
        .all(...userIds)
      return new Map(rows.map((r) => [r.user_id, r.n]))
    },
  }
}
