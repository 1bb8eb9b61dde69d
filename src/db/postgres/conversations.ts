// The conversations store on PostgreSQL: parts and tool calls as jsonb, times as timestamptz,
// message ids from an identity column (bigint, read back as a number).
import type { SQL } from 'bun'
import { containing } from '../like'
import type { Conversation, ConversationStore, Message } from '../stores/conversations'

type ConversationRow = {
  id: string
  user_id: string
  title: string
  model: string | null
  created_at: Date
  updated_at: Date
  pinned: boolean
  archived: boolean
}

type MessageRow = {
  id: string | number
  conversation_id: string
  role: string
  content: string
  parts: Message['parts']
  tool_calls: unknown[] | null
  tool_call_id: string | null
  reasoning: string | null
  prompt_tokens: number | null
  completion_tokens: number | null
  completion_id: string | null
  finish_reason: string | null
  state: Message['state']
  created_at: Date
}

const conversationOf = (row: ConversationRow): Conversation => ({
  id: row.id,
  userId: row.user_id,
  title: row.title,
  model: row.model,
  createdAt: row.created_at.getTime(),
  updatedAt: row.updated_at.getTime(),
  pinned: row.pinned,
  archived: row.archived,
})

const messageOf = (row: MessageRow): Message => ({
  id: Number(row.id),
  conversationId: row.conversation_id,
  role: row.role,
  content: row.content,
  parts: row.parts,
  toolCalls: row.tool_calls,
  toolCallId: row.tool_call_id,
  reasoning: row.reasoning,
  promptTokens: row.prompt_tokens,
  completionTokens: row.completion_tokens,
  completionId: row.completion_id,
  finishReason: row.finish_reason,
  state: row.state,
  createdAt: row.created_at.getTime(),
})

/** How long search walks the newest conversations before it asks the trigram index instead. */
const SEARCH_WALK_MS = 8
/** PostgreSQL's query_canceled, which statement_timeout raises. */
const QUERY_CANCELED = '57014'

const columns = (sql: SQL) => sql`id, user_id, title, model, created_at, updated_at, pinned, archived`

export function postgresConversations(sql: SQL): ConversationStore {
  return {
    async create(c, now) {
      const [row] = await sql<ConversationRow[]>`
        INSERT INTO conversations (id, user_id, title, model, created_at, updated_at)
        VALUES (${Bun.randomUUIDv7()}, ${c.userId}, ${c.title}, ${c.model}, ${new Date(now)}, ${new Date(now)})
        RETURNING ${columns(sql)}`
      return conversationOf(row!)
    },
    async get(userId, id) {
      const [row] = await sql<ConversationRow[]>`SELECT ${columns(sql)} FROM conversations WHERE id = ${id} AND user_id = ${userId}`
      return row ? conversationOf(row) : undefined
    },
    async list(userId, q) {
      const archived = q.archived === undefined ? sql`` : sql`AND archived = ${q.archived}`
      const pinned = q.pinned === undefined ? sql`` : sql`AND pinned = ${q.pinned}`
      const after = q.after ? sql`AND (updated_at, id) < (${new Date(q.after.updatedAt)}, ${q.after.id})` : sql``
      const page = (db: SQL, search: SQL.Query<unknown>) =>
        db<ConversationRow[]>`
          SELECT ${columns(db)} FROM conversations c WHERE user_id = ${userId} ${archived} ${pinned} ${after} ${search}
          ORDER BY updated_at DESC, id DESC LIMIT ${q.limit}`
      if (!q.search) return (await page(sql, sql``)).map(conversationOf)
      const like = containing(q.search.toLowerCase())
      // Text found in many messages: walking the newest conversations and reading each one's
      // messages stops as soon as the page is full (`|| ''` keeps the trigram index out of it).
      // Text found in few or none: that walk would read every message, so after SEARCH_WALK_MS it
      // gives way to the trigram index (0012_conversations), which finds the few messages at once
      // but would be slow for text in most of them. Either gives the same page.
      const walked = await sql
        .begin(async (tx) => {
          await tx.unsafe(`SET LOCAL statement_timeout = ${SEARCH_WALK_MS}`)
          return page(
            tx,
            tx`AND (lower(title) LIKE ${like} OR EXISTS (SELECT 1 FROM conversation_messages m
                 WHERE m.conversation_id = c.id AND lower(m.content) || '' LIKE ${like}))`,
          )
        })
        .catch((error) => {
          if ((error as { errno?: string }).errno === QUERY_CANCELED) return undefined
          throw error
        })
      const rows =
        walked ??
        (await page(
          sql,
          sql`AND (lower(title) LIKE ${like} OR c.id IN (SELECT m.conversation_id FROM conversation_messages m
               WHERE lower(m.content) LIKE ${like}))`,
        ))
      return rows.map(conversationOf)
    },
    async update(userId, id, changes, now) {
      const [row] = await sql<ConversationRow[]>`
        UPDATE conversations SET title = coalesce(${changes.title ?? null}::text, title),
          pinned = coalesce(${changes.pinned ?? null}::boolean, pinned),
          archived = coalesce(${changes.archived ?? null}::boolean, archived),
          updated_at = greatest(updated_at, ${new Date(now)})
        WHERE id = ${id} AND user_id = ${userId} RETURNING ${columns(sql)}`
      return row ? conversationOf(row) : undefined
    },
    async delete(userId, id) {
      return (await sql`DELETE FROM conversations WHERE id = ${id} AND user_id = ${userId}`).count === 1
    },
    async deleteAll(userId) {
      return (await sql`DELETE FROM conversations WHERE user_id = ${userId}`).count
    },
    async messages(conversationId, limit, afterId) {
      return (
        await sql<MessageRow[]>`
          SELECT * FROM conversation_messages WHERE conversation_id = ${conversationId} AND id > ${afterId ?? 0}
          ORDER BY id LIMIT ${limit}`
      ).map(messageOf)
    },
    async lastMessages(conversationId, count) {
      return (
        await sql<MessageRow[]>`
          SELECT * FROM conversation_messages WHERE conversation_id = ${conversationId} ORDER BY id DESC LIMIT ${count}`
      )
        .map(messageOf)
        .reverse()
    },
    async append(conversationId, messages, now, title) {
      return sql.begin(async (tx) => {
        const stored: Message[] = []
        for (const m of messages) {
          const [row] = await tx<MessageRow[]>`
            INSERT INTO conversation_messages (conversation_id, role, content, parts, tool_calls, tool_call_id, reasoning,
              prompt_tokens, completion_tokens, completion_id, finish_reason, state, created_at)
            VALUES (${conversationId}, ${m.role}, ${m.content}, ${m.parts === null ? null : JSON.stringify(m.parts)}::text::jsonb,
              ${m.toolCalls === null ? null : JSON.stringify(m.toolCalls)}::text::jsonb, ${m.toolCallId}, ${m.reasoning},
              ${m.promptTokens}, ${m.completionTokens}, ${m.completionId}, ${m.finishReason}, ${m.state}, ${new Date(now)})
            RETURNING *`
          stored.push(messageOf(row!))
        }
        await tx`
          UPDATE conversations SET updated_at = greatest(updated_at, ${new Date(now)}),
            title = CASE WHEN title = '' AND ${title ?? null}::text IS NOT NULL THEN ${title ?? null}::text ELSE title END
          WHERE id = ${conversationId}`
        return stored
      })
    },
    async countByUser(userIds) {
      if (userIds.length === 0) return new Map()
      const rows = await sql<{ user_id: string; n: number }[]>`
        SELECT user_id, count(*)::int AS n FROM conversations WHERE user_id IN ${sql(userIds)} GROUP BY user_id`
      return new Map(rows.map((r) => [r.user_id, r.n]))
    },
  }
}
