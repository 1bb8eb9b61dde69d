// Chat requests kept in conversations (issue 15): a request names a conversation (its id, or
// "new" to start one) and the gateway stores the request's messages the conversation does not
// already end with, then the assistant's reply once it has ended: complete, cancelled as far as
// it got, or failed. The chat feature calls these; it never touches the store. The shapes here
// are plain data, so this folder does not import the chat feature (no import cycle).
import type { ContentPart, MessageState, NewMessage } from '../db/stores/conversations'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { notFound } from './service'

/** A request message as OpenAI's API sends it (the fields kept). */
export type RequestMessage = {
  role: string
  content?: string | ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: string } })[] | null
  tool_calls?: unknown[] | null
  tool_call_id?: string
}

/** The assistant's reply as it ended. */
export type RecordedReply = {
  content: string
  reasoning: string
  toolCalls: unknown[]
  promptTokens: number | null
  completionTokens: number | null
  completionId: string | null
  finishReason: string | null
  state: MessageState
}

/**
 * The writes to each conversation in progress in this process, chained: a reply is stored just
 * after its response ends, and a client's next turn, sent at once, must find it there (else its
 * request's history would not match the conversation's end, and the reply would be stored twice).
 */
const writing = new Map<string, Promise<unknown>>()

function inTurn<T>(conversationId: string, write: () => Promise<T>): Promise<T> {
  const done = (writing.get(conversationId) ?? Promise.resolve()).catch(() => {}).then(write)
  writing.set(conversationId, done)
  const forget = () => {
    if (writing.get(conversationId) === done) writing.delete(conversationId)
  }
  done.then(forget, forget)
  return done
}

const ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
const TITLE_LENGTH = 60

/** About 60 characters of the text, cut at a word, with an ellipsis when cut. */
export function titleFrom(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (flat.length <= TITLE_LENGTH) return flat
  const cut = flat.slice(0, TITLE_LENGTH + 1)
  const space = cut.lastIndexOf(' ')
  return `${(space > TITLE_LENGTH / 2 ? cut.slice(0, space) : flat.slice(0, TITLE_LENGTH)).trimEnd()}…`
}

/** A data: URL's decoded size; another URL's own length. */
function imageBytes(url: string): number {
  const comma = url.indexOf(',')
  if (!url.startsWith('data:') || comma < 0) return url.length
  const data = url.slice(comma + 1)
  return url.slice(0, comma).endsWith(';base64') ? Math.floor((data.length * 3) / 4) - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0) : data.length
}

function storedMessage(message: RequestMessage, maxImageBytes: number): NewMessage {
  const { content } = message
  let text = ''
  let parts: ContentPart[] | null = null
  if (typeof content === 'string') text = content
  else if (Array.isArray(content)) {
    text = content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n')
    if (content.some((part) => part.type !== 'text'))
      parts = content.map((part): ContentPart => {
        if (part.type === 'text') return { type: 'text', text: part.text }
        const bytes = imageBytes(part.image_url.url)
        return bytes > maxImageBytes ? { type: 'image_omitted', bytes } : { type: 'image_url', image_url: part.image_url }
      })
  }
  return {
    role: message.role,
    content: text,
    parts,
    toolCalls: message.tool_calls?.length ? message.tool_calls : null,
    toolCallId: message.tool_call_id ?? null,
    reasoning: null,
    promptTokens: null,
    completionTokens: null,
    completionId: null,
    finishReason: null,
    state: 'complete',
  }
}

const sameMessage = (a: { role: string; content: string }, b: { role: string; content: string }) =>
  a.role === b.role && a.content === b.content

/** How many of `incoming`'s first messages the conversation already ends with. */
function alreadyStored(tail: { role: string; content: string }[], incoming: NewMessage[]): number {
  for (let k = Math.min(tail.length, incoming.length); k > 0; k--) {
    const end = tail.slice(tail.length - k)
    if (end.every((message, i) => sameMessage(message, incoming[i]!))) return k
  }
  return 0
}

/**
 * The conversation a chat request joins, from its body field or its X-Conversation-Id header
 * (undefined: none). "new" starts one; an id that is not one of the caller's conversations is a
 * 404, thrown before the request goes upstream.
 */
export async function joinConversation(
  rt: Runtime,
  userId: string,
  reference: string | undefined,
  model: string,
): Promise<string | undefined> {
  if (reference === undefined) return undefined
  if (reference === 'new') return (await rt.store.conversations.create({ userId, title: '', model }, Date.now())).id
  if (!ID.test(reference))
    throw new HttpError(400, 'conversationId must be a conversation id or "new"', { param: 'conversationId', code: 'invalid_value' })
  if (!(await rt.store.conversations.get(userId, reference))) throw notFound()
  return reference
}

/** Stores the request's messages that the conversation does not already end with, titling it after its first user message. */
export async function recordRequest(rt: Runtime, conversationId: string, messages: RequestMessage[]) {
  const incoming = messages.map((message) => storedMessage(message, rt.config.conversationMaxImageBytes))
  await inTurn(conversationId, async () => {
    const tail = await rt.store.conversations.lastMessages(conversationId, incoming.length)
    const fresh = incoming.slice(alreadyStored(tail, incoming))
    const firstUser = incoming.find((message) => message.role === 'user' && message.content.trim())
    await rt.store.conversations.append(conversationId, fresh, Date.now(), firstUser ? titleFrom(firstUser.content) : undefined)
  })
}

/** Stores the assistant's reply. */
export async function recordReply(rt: Runtime, conversationId: string, reply: RecordedReply) {
  await inTurn(conversationId, () => rt.store.conversations.append(
    conversationId,
    [
      {
        role: 'assistant',
        content: reply.content,
        parts: null,
        toolCalls: reply.toolCalls.length ? reply.toolCalls : null,
        toolCallId: null,
        reasoning: reply.reasoning || null,
        promptTokens: reply.promptTokens,
        completionTokens: reply.completionTokens,
        completionId: reply.completionId,
        finishReason: reply.finishReason,
        state: reply.state,
      },
    ],
    Date.now(),
  ))
}
