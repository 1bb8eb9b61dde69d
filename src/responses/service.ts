// What the Responses API does between its routes (./index.ts) and the chat pipeline: a request
// becomes a chat request (./to-chat.ts) with its history — the stored chain of
// `previous_response_id` (each response's input items, then its output), or the messages of a
// `conversation` (src/conversations/, the new turn kept there as the chat route keeps one) — and
// runs through the same pipeline as /v1/chat/completions (one log row, the pool, the cache,
// cancellation, limits). Its reply is answered as a `response` object or the Responses stream
// (./stream.ts), and kept (`store`, default true) for retrieval and chaining. A stored response is
// its owner's: another user's id is a 404, whatever it is.
import { reserveMoreInput } from '../budgets'
import type { Principal } from '../auth/principal'
import { openCompletion } from '../chat/cached'
import { keepInConversation, type KeptConversation } from '../chat/conversation'
import type { Pool } from '../chat/pool'
import type { ChatMessage } from '../chat/schemas'
import { screenMessages } from '../chat/screening'
import { collectCompletion, startCompletion, streamCompletion, type Started } from '../chat/service'
import { checkChatRequest } from '../chat/to-ollama'
import type { Translator } from '../chat/to-openai'
import { conversationWithMessages } from '../conversations/service'
import type { StoredResponse } from '../db/stores/responses'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import type { CreateResponseRequest } from './schemas'
import { ResponseEvents } from './stream'
import { chatMessagesOf, chatRequestOf, inputItemsOf, settingsOf, type Item } from './to-chat'
import { endStatusOf, finishedResponse, outputOf, responseHead, responseIdOf, type ResponseObject } from './to-response'

type Server = Parameters<typeof screenMessages>[1]['server']
export type Caller = { principal: Principal; request: Request; server: Server; headers: Record<string, unknown> }

const notFound = () => new HttpError(404, 'You have no stored response with this id', { code: 'response_not_found' })

const invalid = (param: string, message: string) =>
  new HttpError(400, `Invalid body field '${param}': ${message}`, { param, code: 'invalid_value' })

/** How many responses back a `previous_response_id` chain is read, at most (each is one read). */
const MAX_CHAIN = 1000
/** Messages read from a conversation at a time. */
const CONVERSATION_PAGE = 100

/**
 * History gathered for one request stops at this many characters of JSON: a chain of a thousand
 * stored megabyte inputs would otherwise be read, held and sent for every turn (and no model
 * takes it anyway).
 */
const historyBudget = (rt: Runtime) => 8 * rt.config.maxBodyBytes

const historyTooLarge = (param: string, budget: number) =>
  new HttpError(400, `The history named by '${param}' is larger than this server takes (${budget} characters of JSON); start a new chain`, {
    param,
    code: 'history_too_large',
  })

/** A stored response's size as history: its input items and output, as JSON. */
const sizeOf = (stored: StoredResponse) => JSON.stringify(stored.inputItems).length + JSON.stringify(stored.response.output ?? []).length

/** The stored chain ending at `id`, oldest first: each response's input items, then its output. */
async function chainHistory(rt: Runtime, userId: string, id: string): Promise<Record<string, unknown>[]> {
  const chain: StoredResponse[] = []
  const last = await rt.store.responses.get(userId, id)
  if (!last)
    throw new HttpError(404, "Invalid body field 'previous_response_id': you have no stored response with this id", {
      param: 'previous_response_id',
      code: 'previous_response_not_found',
    })
  chain.push(last)
  const budget = historyBudget(rt)
  let size = sizeOf(last)
  // A response whose predecessor was deleted starts the chain there.
  for (let at = last.previousResponseId; at && chain.length < MAX_CHAIN; ) {
    if (size > budget) throw historyTooLarge('previous_response_id', budget)
    const earlier = await rt.store.responses.get(userId, at)
    if (!earlier) break
    chain.push(earlier)
    size += sizeOf(earlier)
    at = earlier.previousResponseId
  }
  if (size > budget) throw historyTooLarge('previous_response_id', budget)
  return chain.reverse().flatMap((stored) => [...stored.inputItems, ...((stored.response.output as Record<string, unknown>[]) ?? [])])
}

const CONVERSATION_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/** The conversation the request names (`"id"` or `{id}`), checked; undefined when it names none. */
function conversationIdOf(conversation: unknown): string | undefined {
  if (conversation == null) return undefined
  const id = typeof conversation === 'object' && !Array.isArray(conversation) ? (conversation as { id?: unknown }).id : conversation
  if (typeof id !== 'string' || !CONVERSATION_ID.test(id))
    throw invalid('conversation', 'must be the id of one of your conversations (GET /api/conversations), or {"id": …}')
  return id
}

/** The conversation's messages as chat messages (an image too large to have been kept is left out). */
async function conversationHistory(rt: Runtime, userId: string, id: string): Promise<ChatMessage[]> {
  const history: ChatMessage[] = []
  const budget = historyBudget(rt)
  let size = 0
  for (let cursor: number | undefined; ; ) {
    const page = await conversationWithMessages(rt, userId, id, { limit: CONVERSATION_PAGE, cursor })
    for (const message of page.messages) {
      size += message.content.length + (message.parts ? JSON.stringify(message.parts).length : 0) + (message.toolCalls ? JSON.stringify(message.toolCalls).length : 0)
      if (size > budget) throw historyTooLarge('conversation', budget)
      type Part = Exclude<ChatMessage['content'], string | null | undefined>[number]
      const parts = message.parts?.flatMap((part: { type: string; text?: string; image_url?: { url: string } }): Part[] =>
        part.type === 'text' ? [{ type: 'text', text: part.text! }] : part.type === 'image_url' ? [{ type: 'image_url', image_url: part.image_url! }] : [],
      )
      // A reply that failed before it said anything is nothing to the model.
      if (message.role === 'assistant' && !message.content && !message.toolCalls?.length) continue
      history.push({
        role: message.role as ChatMessage['role'],
        content: parts ?? message.content,
        ...(message.toolCalls?.length ? { tool_calls: message.toolCalls as ChatMessage['tool_calls'] } : {}),
        ...(message.toolCallId ? { tool_call_id: message.toolCallId } : {}),
      })
    }
    if (page.nextCursor === null) return history
    cursor = Number(page.nextCursor)
  }
}

/**
 * Counts the thinking messages a translator reads: each is one token (Ollama streams a token a
 * message), the reasoning tokens of the usage. Ollama counts them within eval_count, not apart.
 */
function countThinking(translator: Translator) {
  const counted = { tokens: 0 }
  const push = translator.push.bind(translator)
  translator.push = (message) => {
    if (!message.done && message.message?.thinking) counted.tokens++
    return push(message)
  }
  return counted
}

/** Keeps a response; a failure to keep it is reported, never the request's (its reply was sent or is being sent). */
const keep = (rt: Runtime, stored: StoredResponse) =>
  rt.store.responses.save(stored).catch((error) => console.error(`responses: keeping ${stored.id} failed: ${(error as Error).message}`))

/**
 * Runs a Responses request: the `response` object, or the SSE body of its stream. Bad input and
 * unknown ids fail before anything goes upstream; a conversation keeps the new turn first.
 */
export async function createResponse(rt: Runtime, pool: Pool, body: CreateResponseRequest, caller: Caller): Promise<ResponseObject | ReadableStream> {
  const { principal, request } = caller
  const settings = settingsOf(body)
  const inputItems = inputItemsOf(body.input)
  const conversationId = conversationIdOf(body.conversation)
  if (conversationId && body.previous_response_id != null)
    throw invalid('conversation', "cannot be sent with 'previous_response_id': send one of them")
  const newMessages = chatMessagesOf(inputItems)
  const history = body.previous_response_id != null
    ? chatMessagesOf(await chainHistory(rt, principal.userId, body.previous_response_id))
    : conversationId
      ? await conversationHistory(rt, principal.userId, conversationId)
      : []
  const chatBody = chatRequestOf(body, settings, [...history, ...newMessages])
  if (!history.length && !newMessages.length) throw invalid('input', 'is required (or a previous_response_id or conversation with messages)')
  // The history goes upstream too: the budgets reserved for the body alone reserve for it as well (a token per byte).
  if (history.length) await reserveMoreInput(request, Buffer.byteLength(JSON.stringify(history)))
  // Refused before anything is kept or goes upstream.
  checkChatRequest(chatBody)
  screenMessages(rt, { principal, request, server: caller.server }, chatBody.messages)
  const conversation: KeptConversation | undefined = conversationId
    ? await keepInConversation(rt, principal.userId, { ...chatBody, messages: newMessages, conversationId }, request)
    : undefined
  let started: Started
  try {
    started = await openCompletion(rt, chatBody, request, principal.userId, caller.headers, () =>
      startCompletion(pool, chatBody, request, rt.config.maxOutputTokens),
    )
  } catch (error) {
    conversation?.notStarted(request.signal.aborted)
    throw error
  }
  conversation?.follow(started)
  const head = responseHead(responseIdOf(started.translator.completion.id), body, settings, conversationId)
  const stored = (response: ResponseObject): StoredResponse => ({
    id: head.id,
    userId: principal.userId,
    previousResponseId: body.previous_response_id ?? null,
    response,
    inputItems,
    createdAt: head.created_at * 1000,
  })
  const store = body.store !== false
  const keepConversation = started.keepReply

  if (!body.stream) {
    const thinking = countThinking(started.translator)
    let response: ResponseObject | undefined
    // Made (and kept) once the reply is whole, before it is answered: a client that retrieves it at once finds it.
    started.keepReply = async () => {
      await keepConversation?.()
      const { translator } = started
      response = finishedResponse(head, outputOf(translator, endStatusOf(translator)), translator, thinking.tokens)
      if (store) await keep(rt, stored(response))
    }
    await collectCompletion(started)
    return response!
  }

  const events = new ResponseEvents(head, started.translator)
  started.keepReply = async () => {
    await keepConversation?.()
    const response = events.finish()
    if (store) await keep(rt, stored(response))
  }
  const endConversation = started.onEnd
  started.onEnd = () => {
    endConversation?.()
    // A stream that failed after `response.created` named its id: kept as failed. A cancelled one is not kept.
    if (store && started.facts.outcome !== 'ok' && started.facts.outcome !== 'cancelled' && events.final) void keep(rt, stored(events.final))
  }
  return streamCompletion(started, events)
}

/** The caller's stored response, or a 404. */
export async function ownResponse(rt: Runtime, userId: string, id: string) {
  const stored = await rt.store.responses.get(userId, id)
  if (!stored) throw notFound()
  return stored
}

export async function deleteResponse(rt: Runtime, userId: string, id: string) {
  if (!(await rt.store.responses.delete(userId, id))) throw notFound()
  return { id, object: 'response' as const, deleted: true as const }
}

export type ItemsPage = { limit?: number; order?: 'asc' | 'desc'; after?: string }

/** A page of the response's input items, newest first unless `order` is `asc`, after the item `after`. */
export async function inputItemsPage(rt: Runtime, userId: string, id: string, page: ItemsPage) {
  const { inputItems } = await ownResponse(rt, userId, id)
  const ordered = page.order === 'asc' ? inputItems : [...inputItems].reverse()
  let start = 0
  if (page.after !== undefined) {
    const at = ordered.findIndex((item) => item.id === page.after)
    if (at < 0)
      throw new HttpError(400, "Invalid query parameter 'after': must be the id of one of this response's input items", { param: 'after', code: 'invalid_value' })
    start = at + 1
  }
  const limit = page.limit ?? 20
  const data = ordered.slice(start, start + limit) as Item[]
  return {
    object: 'list' as const,
    data,
    has_more: start + limit < ordered.length,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  }
}
