// Ollama's /api/embed through the ollama client the pool hands out (so failover, timeouts and
// cancel-on-disconnect are the pool's, and a refusal becomes the client's error as for chat),
// with the answer kept as bytes for ./answer.ts to read, instead of the client's JSON.parse of
// it. Also tells which of the pool's hosts a client sends to. Both read two fields the ollama
// client (pinned at 0.6.4) keeps protected, `fetch` and `config`: `pool.call` hands over the
// client, not its host or its fetch.
import { Ollama, type EmbedRequest } from 'ollama/browser'
import type { Host } from '../chat/host'
import type { Pool } from '../chat/pool'

type ClientFields = { fetch: typeof fetch; config: { host: string; headers?: HeadersInit } }
const fieldsOf = (client: Ollama) => client as unknown as ClientFields

/** Sends `request` through `client`'s `embed`: the answer's bytes. */
export async function embedBytes(client: Ollama, request: EmbedRequest): Promise<Uint8Array> {
  const { fetch: poolFetch, config } = fieldsOf(client)
  let bytes: Uint8Array | undefined
  // A refusal goes back untouched: the client turns it into its ResponseError, which the pool reads.
  // An answer's body is kept whole, and the client's `json()` of it does nothing.
  const keepingBytes = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await poolFetch(input, init)
    if (!response.ok) return response
    bytes = await response.bytes()
    return Object.assign(response, { json: async () => null })
  }) as typeof fetch
  await new Ollama({ host: config.host, headers: config.headers, fetch: keepingBytes }).embed(request)
  return bytes!
}

/** Where each host's clients send to, as the ollama client spells it (a default port added, no trailing slash). */
const clientAddresses = new WeakMap<Host, string>()

/** The pool's host that `client` sends to: the log names the host that answered. */
export function hostOf(pool: Pool, client: Ollama): Host | undefined {
  const address = fieldsOf(client).config.host
  return pool.hosts.find((host) => {
    let known = clientAddresses.get(host)
    if (known === undefined) clientAddresses.set(host, (known = fieldsOf(new Ollama({ host: host.endpoint })).config.host))
    return known === address
  })
}
