// The conversations store's interface and types: chats kept by the server, each owned by one user,
// with their messages in the order they were said. Every read and write that names a conversation
// also names its owner, so another user's conversation is simply not found. Times in ms.

/** A conversation as stored (its messages apart). */
export type Conversation = {
  id: string
  userId: string
  title: string
  model: string | null
  createdAt: number
  updatedAt: number
  pinned: boolean
  archived: boolean
}

/** One content part of a message, as OpenAI's API spells it; an image too large to keep becomes `image_omitted`. */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: string } }
  | { type: 'image_omitted'; bytes: number }

export type MessageState = 'complete' | 'cancelled' | 'failed'

export type Message = {
  /** Increasing with the order the messages were stored in. */
  id: number
  conversationId: string
  role: string
  /** The message's text (its text parts joined), what search looks in. */
  content: string
  /** The content parts when the message had parts (images), else null. */
  parts: ContentPart[] | null
  toolCalls: unknown[] | null
  toolCallId: string | null
  reasoning: string | null
  promptTokens: number | null
  completionTokens: number | null
  completionId: string | null
  finishReason: string | null
  state: MessageState
  createdAt: number
}

export type NewMessage = Omit<Message, 'id' | 'conversationId' | 'createdAt'>

export type NewConversation = { userId: string; title: string; model: string | null }

export type ConversationChanges = { title?: string; pinned?: boolean; archived?: boolean }

/** Where a page of the list starts: after this conversation in newest-first order. */
export type ListPosition = { updatedAt: number; id: string }

export type ListQuery = {
  limit: number
  after?: ListPosition
  archived?: boolean
  pinned?: boolean
  /** Case-insensitive text to find in the title or in any message's text. */
  search?: string
}

export interface ConversationStore {
  create(conversation: NewConversation, now: number): Promise<Conversation>
  /** The user's conversation, or undefined when there is none with this id (or it is another user's). */
  get(userId: string, id: string): Promise<Conversation | undefined>
  /** The user's conversations, most recently updated first (ties by id, descending). */
  list(userId: string, query: ListQuery): Promise<Conversation[]>
  update(userId: string, id: string, changes: ConversationChanges, now: number): Promise<Conversation | undefined>
  /** Deletes one of the user's conversations and its messages; false when the user has none with this id. */
  delete(userId: string, id: string): Promise<boolean>
  /** Deletes all of the user's conversations; how many there were. */
  deleteAll(userId: string): Promise<number>
  /** A page of the conversation's messages in order, those after message `afterId` (the start when left out). */
  messages(conversationId: string, limit: number, afterId?: number): Promise<Message[]>
  /** The conversation's last `count` messages, in order. */
  lastMessages(conversationId: string, count: number): Promise<Message[]>
  /**
   * Stores messages at the end of the conversation and marks it updated; gives it `title` when it
   * has none yet (a conversation created without one takes its first user message's).
   */
  append(conversationId: string, messages: NewMessage[], now: number, title?: string): Promise<Message[]>
  /** How many conversations each of these users has (users without any are left out). */
  countByUser(userIds: string[]): Promise<Map<string, number>>
}
