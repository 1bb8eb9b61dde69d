// Talking to a server that speaks OpenAI's API (OPENAI_UPSTREAMS) the way the pool talks to an
// Ollama host: its model list for the checks, and a `post` whose refusals look like the ollama
// client's (`status_code` and the server's message), so failures.ts judges both alike.
import type { ModelResponse } from 'ollama/browser'
import type { Host } from './host'

/** A non-2xx answer, as the ollama client's ResponseError carries it. */
export class UpstreamRefusal extends Error {
  constructor(
    message: string,
    readonly status_code: number,
  ) {
    super(message)
    this.name = 'UpstreamRefusal'
  }
}

/** Posts JSON to a path under the server's base URL (…/v1); resolves with a 2xx answer. */
export type Post = (path: string, body: unknown) => Promise<Response>

type OpenAiHost = Extract<Host, { kind: 'openai' }>

const headersOf = (host: OpenAiHost) => ({
  'content-type': 'application/json',
  ...(host.apiKey ? { authorization: `Bearer ${host.apiKey}` } : {}),
})

/** The message of an OpenAI error envelope (or of whatever the server sent), at most 300 characters. */
async function refusalOf(response: Response): Promise<UpstreamRefusal> {
  const text = await response.text().catch(() => '')
  let message = text
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown }
    const found = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message)
    if (typeof found === 'string') message = found
  } catch {}
  return new UpstreamRefusal(message.slice(0, 300) || response.statusText, response.status)
}

export function postTo(host: OpenAiHost, fetchOnce: typeof fetch): Post {
  return async (path, body) => {
    const response = await fetchOnce(`${host.endpoint}${path}`, { method: 'POST', headers: headersOf(host), body: JSON.stringify(body) })
    if (!response.ok) throw await refusalOf(response)
    return response
  }
}

/** GET /models, its entries in the shape of Ollama's /api/tags (name, modification time). */
export async function openAiModels(host: OpenAiHost, timeoutMs: number): Promise<ModelResponse[]> {
  const response = await fetch(`${host.endpoint}/models`, { headers: headersOf(host), signal: AbortSignal.timeout(timeoutMs) })
  if (!response.ok) throw await refusalOf(response)
  const { data } = (await response.json()) as { data?: unknown }
  if (!Array.isArray(data)) throw new Error('its /models answer has no data list')
  return data.flatMap((entry) => {
    const id = (entry as { id?: unknown })?.id
    if (typeof id !== 'string' || !id) return []
    const created = (entry as { created?: unknown }).created
    const modified = new Date(typeof created === 'number' ? created * 1000 : 0)
    return [{ name: id, model: id, modified_at: modified, size: 0, digest: '', details: {}, expires_at: modified, size_vram: 0 } as unknown as ModelResponse]
  })
}
