// The client APIs the gateway speaks, and the paths their requests are logged under: one request
// log for all of them, told apart by path (the admin's log filter `api`).
import { WEBSOCKET_PATH } from '.'

export const API_PATHS = {
  chat: ['/v1/chat/completions', WEBSOCKET_PATH],
  completions: ['/v1/completions'],
  embeddings: ['/v1/embeddings'],
  images: ['/v1/images/generations'],
  messages: ['/v1/messages'],
  responses: ['/v1/responses'],
} as const

export type Api = keyof typeof API_PATHS

export const APIS = Object.keys(API_PATHS) as Api[]
