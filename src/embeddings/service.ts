// An embeddings request from start to end: one `embed` call to a host that has the model (an
// Ollama host, or a server of OPENAI_UPSTREAMS whose models embed; the pool fails over as it does
// for chat), its answer checked and turned into OpenAI's list, and the facts the request log needs
// (model, host, prompt tokens, outcome, time), which price it at the model's MODEL_PRICES `input`
// price. A client that goes away aborts the upstream request.
import type { Host } from '../chat/host'
import { fail as end, notOpened } from '../chat/relay'
import type { Pool } from '../chat/pool'
import { HttpError } from '../http/errors'
import { factsOf, tokenCount } from '../telemetry/facts'
import { readEmbedAnswer, type EmbedAnswer } from './answer'
import type { EmbeddingRequest } from './model'
import { embedBytes, openAiEmbedBytes } from './upstream'

/**
 * OpenAI's embedding list as a JSON body, written around each embedding's own JSON (a vector's
 * bytes as Ollama sent them, or a base64 string): a megabyte of numbers is neither printed again
 * nor copied into one more buffer (a large buffer costs the gateway more than its copying: see
 * bench/README.md, "Embeddings").
 */
function embeddingList(model: string, embeddings: (Uint8Array | string)[], promptTokens: number): ReadableStream {
  const source: Bun.DirectUnderlyingSource = {
    type: 'direct',
    pull(sink) {
      sink.write('{"object":"list","data":[')
      for (let index = 0; index < embeddings.length; index++) {
        sink.write(`${index ? ',' : ''}{"object":"embedding","index":${index},"embedding":`)
        sink.write(embeddings[index]!)
        sink.write('}')
      }
      sink.write(`],"model":${JSON.stringify(model)},"usage":{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens}}}`)
      sink.close()
    },
  }
  // The DOM typings (which the tests need) hide Bun's own constructor overload.
  return new ReadableStream(source as unknown as UnderlyingDefaultSource)
}

/** OpenAI's embedding list for the request, as a JSON body (see `embeddingList`). */
export async function createEmbeddings(pool: Pool, body: EmbeddingRequest, request: Request): Promise<ReadableStream> {
  const facts = factsOf(request)
  facts.model = body.model
  const input = typeof body.input === 'string' ? [body.input] : body.input
  let host: Host | undefined
  let bytes: Uint8Array
  try {
    const embed = { model: body.model, input, ...(body.dimensions ? { dimensions: body.dimensions } : {}) }
    bytes = await pool.call(
      body.model,
      {
        needs: 'embedding',
        // A large batch answers only when all of it is done: not silence.
        patient: true,
        ollama: (_, via) => {
          host = via.host
          return embedBytes(via, embed)
        },
        openai: (post, via) => {
          host = via.host
          return openAiEmbedBytes(post, embed)
        },
      },
      request.signal,
      facts.startedAt,
    )
  } catch (error) {
    throw notOpened(pool, body.model, facts, error)
  }
  const hostUrl = host?.url ?? 'the upstream'
  facts.upstream = host?.url
  let answer: EmbedAnswer
  try {
    try {
      answer = readEmbedAnswer(bytes, input.length, hostUrl, body.encoding_format ?? 'float')
    } catch (error) {
      if (error instanceof HttpError) throw error
      throw new HttpError(502, `Ollama at ${hostUrl} answered something that is not JSON`, { code: 'upstream_error' })
    }
  } catch (error) {
    end(facts, 'upstream_error', 'upstream_error')
    throw error
  }
  const promptTokens = tokenCount(answer.promptEvalCount)
  facts.promptTokens = promptTokens
  const embeddings = body.encoding_format === 'base64' ? (answer.vectors as string[]).map((text) => `"${text}"`) : answer.vectors
  end(facts, 'ok')
  return embeddingList(body.model, embeddings, promptTokens)
}
