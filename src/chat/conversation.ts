// The chat route's side of conversations kept by the server (src/conversations/): which
// conversation a request joins (body field `conversationId`, a twin OpenAI clients never send,
// or the X-Conversation-Id header), its request messages stored before it goes upstream, and
// the reply stored once it is whole, before its end is sent (or, cancelled or failed, when it
// ends), read from the translator the same way the response cache reads it (./cached.ts `answerOf`).
import { joinConversation, recordReply, recordRequest, type RecordedReply } from '../conversations/recording'
import type { Runtime } from '../runtime'
import { answerOf } from './cached'
import type { ChatRequest } from './schemas'
import type { Started } from './service'

export type KeptConversation = {
  id: string
  /** Keeps the reply of `started` once it ends, and says the conversation on its first chunk. */
  follow(started: Started): void
  /** Keeps a reply that never started (refused upstream, or the client went away first). */
  notStarted(cancelled: boolean): void
}

/** Stores the reply; a failure is reported, never the request's (the reply was sent or is being sent). */
const keep = (rt: Runtime, id: string, reply: RecordedReply) =>
  recordReply(rt, id, reply).catch((error) => console.error(`conversations: keeping a reply in ${id} failed: ${(error as Error).message}`))

function replyOf(started: Started): RecordedReply {
  const { facts, translator } = started
  const answer = answerOf(started)
  const state = facts.outcome === 'ok' ? 'complete' : facts.outcome === 'cancelled' ? 'cancelled' : 'failed'
  return {
    content: answer.content,
    reasoning: answer.reasoning,
    toolCalls: translator.toolCalls.map(({ index: _, ...call }) => call),
    promptTokens: facts.promptTokens ?? null,
    completionTokens: facts.completionTokens ?? null,
    completionId: translator.completion.id,
    finishReason: state === 'complete' ? translator.finishReason : null,
    state,
  }
}

/**
 * The conversation the request joins, with the request's new messages already stored; undefined
 * when it names none. Takes `conversationId` out of the body (it is not Ollama's, nor part of
 * the cache key). Another user's conversation is a 404, before anything goes upstream.
 */
export async function keepInConversation(
  rt: Runtime,
  userId: string,
  body: ChatRequest,
  request: Request,
): Promise<KeptConversation | undefined> {
  const reference = body.conversationId ?? request.headers.get('x-conversation-id') ?? undefined
  delete body.conversationId
  const id = await joinConversation(rt, userId, reference, body.model)
  if (id === undefined) return undefined
  await recordRequest(rt, id, body.messages)
  return {
    id,
    follow(started) {
      started.translator.conversationId = id
      // A complete reply is stored before its end is sent; one cancelled or failed when it ends.
      started.keepReply = () => keep(rt, id, replyOf(started))
      started.onEnd = () => {
        if (started.facts.outcome !== 'ok') void keep(rt, id, replyOf(started))
      }
    },
    notStarted(cancelled) {
      void keep(rt, id, {
        content: '', reasoning: '', toolCalls: [], promptTokens: null, completionTokens: null, completionId: null,
        finishReason: null, state: cancelled ? 'cancelled' : 'failed',
      })
    },
  }
}
