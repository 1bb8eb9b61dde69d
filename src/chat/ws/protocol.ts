// The chat socket's messages, both ways. The client sends `auth`, `chat` and `cancel`; the server
// answers each chat with `chunk` messages (the very chunk objects the SSE stream carries), then
// `done`, or an `error` (the OpenAI error object). A message the server cannot read gets an
// `error` naming the problem, and the socket stays open.

/** A request's id as the client chose it: echoed on every message about that request. */
export type RequestId = string | number

export type ClientMessage =
  | { type: 'auth'; token: string }
  | { type: 'chat'; id: RequestId; request: Record<string, unknown> }
  | { type: 'cancel'; id: RequestId }

/** An OpenAI error object, as /v1 routes answer errors. */
export type ErrorObject = { message: string; type: string; param: string | null; code: string | null }

const MAX_ID_LENGTH = 128

/** A message the server could not take, and which field is at fault. */
export class Malformed extends Error {
  constructor(
    message: string,
    readonly param: string | null,
    readonly id?: RequestId,
  ) {
    super(message)
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function idOf(message: Record<string, unknown>): RequestId {
  const { id } = message
  if (typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH) return id
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id
  throw new Malformed(`id must be a string of 1 to ${MAX_ID_LENGTH} characters or an integer`, 'id')
}

/** Reads one text frame from the client; throws Malformed naming what is wrong (never echoing the value). */
export function parseClientMessage(text: string | Buffer): ClientMessage {
  if (typeof text !== 'string') throw new Malformed('messages must be text frames holding JSON, not binary frames', null)
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    throw new Malformed('the message is not valid JSON', null)
  }
  if (!isObject(message)) throw new Malformed('the message must be a JSON object', null)
  switch (message.type) {
    case 'auth':
      if (typeof message.token !== 'string' || message.token === '') throw new Malformed('token must be a non-empty string (a JWT access token or an API key)', 'token')
      return { type: 'auth', token: message.token }
    case 'chat': {
      const id = idOf(message)
      if (!isObject(message.request)) throw new Malformed('request must be an object: the body of POST /v1/chat/completions', 'request', id)
      return { type: 'chat', id, request: message.request }
    }
    case 'cancel':
      return { type: 'cancel', id: idOf(message) }
    default:
      throw new Malformed('type must be one of "auth", "chat" or "cancel"', 'type')
  }
}

export const errorObject = (message: string, param: string | null, code: string, type = 'invalid_request_error'): ErrorObject => ({ message, type, param, code })

/** An `error` message: about one request when `id` is given, else about the message just sent. */
export const errorMessage = (error: ErrorObject, id?: RequestId) => JSON.stringify(id === undefined ? { type: 'error', error } : { type: 'error', id, error })

/** A `chunk` message around a chunk's JSON text as the SSE stream carries it (spliced, not parsed again). */
export const chunkMessage = (id: RequestId, chunkJson: string) => `{"type":"chunk","id":${JSON.stringify(id)},"chunk":${chunkJson}}`

export type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number; promptTokens: number; completionTokens: number; totalTokens: number }

export const doneMessage = (id: RequestId, usage: Usage) => JSON.stringify({ type: 'done', id, usage })
