// The embed request to either kind of host, its answer kept as bytes for ./answer.ts to read
// (instead of a JSON.parse of a megabyte of numbers): Ollama's /api/embed through the ollama
// client (so a refusal becomes its error, as for chat), or a server that speaks OpenAI's API
// through its /embeddings, its answer put in Ollama's shape. The pool's fetch carries the
// request's abort signal either way.
import { Ollama, type EmbedRequest } from 'ollama/browser'
import type { Post } from '../chat/openai-upstream'
import type { Via } from '../chat/upstream-reply'

/** Ollama's answer's bytes, through the client's `embed` (which turns a refusal into its ResponseError). */
export async function embedBytes(via: Via, request: EmbedRequest): Promise<Uint8Array> {
  let bytes: Uint8Array | undefined
  // A refusal goes back untouched; an answer's body is kept whole, and the client's `json()` of it does nothing.
  const keepingBytes = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await via.fetch(input, init)
    if (!response.ok) return response
    bytes = await response.bytes()
    return Object.assign(response, { json: async () => null })
  }) as typeof fetch
  await new Ollama({ host: via.host.endpoint, fetch: keepingBytes }).embed(request)
  return bytes!
}

/** A server's OpenAI embedding list, as the bytes of Ollama's answer (`embeddings`, `prompt_eval_count`). */
export async function openAiEmbedBytes(post: Post, request: EmbedRequest): Promise<Uint8Array> {
  const answer = (await (await post('/embeddings', { ...request, encoding_format: 'float' })).json()) as {
    data?: unknown
    usage?: { prompt_tokens?: number }
  } | null
  // An answer of another shape is the server's failure (a plain Error), not a broken connection.
  if (!Array.isArray(answer?.data)) throw new Error('the server answered without an embedding list')
  const data = (answer.data as { index?: number; embedding?: unknown }[]).toSorted((a, b) => (a?.index ?? 0) - (b?.index ?? 0))
  const ollama = { embeddings: data.map((entry) => entry?.embedding), prompt_eval_count: answer.usage?.prompt_tokens ?? 0 }
  return new TextEncoder().encode(JSON.stringify(ollama))
}
