// An embeddings request from start to end: one `embed` call to a host that has the model (the
// pool fails over as it does for chat), its answer checked and turned into OpenAI's list, and the
// facts the request log needs (model, host, prompt tokens, outcome, time), which price it at the
// model's MODEL_PRICES `input` price. A client that goes away aborts the upstream request.
import type { EmbedResponse, Ollama } from 'ollama/browser'
import { Ollama as OllamaClient } from 'ollama/browser'
import { Aborted } from '../chat/aborted'
import { clientGone } from '../chat/failures'
import type { Host } from '../chat/host'
import type { Pool } from '../chat/pool'
import { HttpError } from '../http/errors'
import { factsOf, tokenCount, type Outcome, type RequestFacts } from '../telemetry/facts'
import type { EmbeddingRequest } from './model'
import { checkedVectors, float32Base64 } from './vectors'

/** An upstream's failure, the gateway's own (a request past its time, a shutdown), or the request's fault (as the chat counts them). */
function outcomeOf(error: HttpError): Outcome {
  const { code } = error.options
  if (code?.startsWith('upstream_') && code !== 'upstream_rejected') return 'upstream_error'
  return error.status >= 500 ? 'server_error' : 'client_error'
}

function end(facts: RequestFacts, outcome: Outcome, errorType?: string) {
  facts.outcome = outcome
  if (errorType) facts.errorType = errorType
  facts.totalMs = performance.now() - facts.startedAt
}

/**
 * The address the pool's client for `host` sends to, as the ollama client spells it (it adds a
 * default port, drops a trailing slash): `pool.call` hands over the client, not its host, and the
 * log names the host that answered.
 */
const clientAddresses = new WeakMap<Host, string>()
const clientAddressOf = (client: Ollama) => (client as unknown as { config: { host: string } }).config.host
function hostOf(pool: Pool, client: Ollama): Host | undefined {
  const address = clientAddressOf(client)
  return pool.hosts.find((host) => {
    let known = clientAddresses.get(host)
    if (known === undefined) clientAddresses.set(host, (known = clientAddressOf(new OllamaClient({ host: host.endpoint }))))
    return known === address
  })
}

export async function createEmbeddings(pool: Pool, body: EmbeddingRequest, request: Request) {
  const facts = factsOf(request)
  facts.model = body.model
  const input = typeof body.input === 'string' ? [body.input] : body.input
  let host: Host | undefined
  let answer: EmbedResponse
  try {
    answer = await pool.call(
      body.model,
      (client) => {
        host = hostOf(pool, client)
        return client.embed({ model: body.model, input, ...(body.dimensions ? { dimensions: body.dimensions } : {}) })
      },
      request.signal,
      facts.startedAt,
    )
  } catch (error) {
    // A model no reachable host lists is whatever the client typed: kept out of the log and the dashboard's models.
    if (!pool.lists(body.model)) facts.model = undefined
    if (error instanceof Aborted) {
      end(facts, 'cancelled')
      throw clientGone()
    }
    if (error instanceof HttpError) end(facts, outcomeOf(error), error.options.code ?? undefined)
    throw error
  }
  facts.upstream = host?.url
  let vectors: number[][]
  try {
    vectors = checkedVectors(answer.embeddings, input.length, host?.url ?? 'the upstream')
  } catch (error) {
    if (error instanceof HttpError) end(facts, outcomeOf(error), error.options.code ?? undefined)
    throw error
  }
  const promptTokens = tokenCount(answer.prompt_eval_count)
  facts.promptTokens = promptTokens
  end(facts, 'ok')
  const base64 = body.encoding_format === 'base64'
  return {
    object: 'list' as const,
    data: vectors.map((vector, index) => ({ object: 'embedding' as const, index, embedding: base64 ? float32Base64(vector) : vector })),
    model: body.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  }
}
