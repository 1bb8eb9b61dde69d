// An embeddings request from start to end: one `embed` call to a host that has the model (an
// Ollama host, or a server of OPENAI_UPSTREAMS whose models embed; the pool fails over as it does
// for chat), its answer checked and relayed as OpenAI's list while it arrives, and the facts the
// request log needs (model, host, prompt tokens, outcome, time), which price it at the model's
// MODEL_PRICES `input` price. A client that goes away aborts the upstream request.
//
// The `200` goes out once the answer's first vectors (or, for an answer laid out otherwise, all
// of it) have arrived and been checked: a failure before then (not Ollama's answer, not JSON, a
// bad first vector, a broken connection) is a clean error answer. A failure after it (a later
// vector that is not numbers, too few or too many vectors, a cut or broken answer, the request
// stopped by MAX_REQUEST_SECONDS or the shutdown) cuts the reply: its connection is closed without
// the end of the body, so the client sees a broken response, never a short list; the log row
// records the failure (upstream_error, upstream_died, …).
import { clientGone, midStreamFailure, outcomeOf } from '../chat/failures'
import { fail as end, isCancel, notOpened } from '../chat/relay'
import type { Pool } from '../chat/pool'
import type { Opened } from '../chat/upstream-reply'
import { HttpError } from '../http/errors'
import { factsOf, markStreaming, streamEnded, tokenCount, type RequestFacts } from '../telemetry/facts'
import { EmbedAnswerReader } from './answer'
import type { EmbeddingRequest } from './model'
import { embedBody, openAiEmbedBody } from './upstream'
import { base64OfVector } from './vectors'

/**
 * An answer shorter than this (a few vectors) is read whole and checked before the 200, and
 * answered as one body; a longer one is relayed from its first piece of at least this size on.
 */
const WHOLE_BELOW = 65_536

/** Text before each embedding's own JSON, and the list's start and end. */
const LIST_START = '{"object":"list","data":['
const entryStart = (index: number) => `${index ? '},' : ''}{"object":"embedding","index":${index},"embedding":`
const listEnd = (model: string, promptTokens: number) =>
  `}],"model":${JSON.stringify(model)},"usage":{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens}}}`

/** OpenAI's embedding list for the request, as a JSON body written while Ollama's answer arrives (or at once, when it came whole). */
export async function createEmbeddings(pool: Pool, body: EmbeddingRequest, request: Request): Promise<ReadableStream | Blob> {
  const facts = factsOf(request)
  facts.model = body.model
  const input = typeof body.input === 'string' ? [body.input] : body.input
  const embed = { model: body.model, input, ...(body.dimensions ? { dimensions: body.dimensions } : {}) }
  let opened: Opened<ReadableStream<Uint8Array>>
  try {
    opened = await pool.open(
      body.model,
      {
        needs: 'embedding',
        // A large batch answers only when all of it is done: not silence.
        patient: true,
        ollama: (_, via) => embedBody(via, embed),
        openai: (post) => openAiEmbedBody(post, embed),
      },
      request.signal,
      facts.startedAt,
    )
  } catch (error) {
    throw notOpened(pool, body.model, facts, error)
  }
  facts.upstream = opened.host.url
  const host = opened.host
  facts.upstream = host.url
  if (process.env.EMBED_DEBUG) console.error('opened', (performance.now() - facts.startedAt).toFixed(2))
  const answer = new EmbedAnswerReader(input.length, host.url)
  const upstream = opened.answer.getReader()
  const base64 = body.encoding_format === 'base64'
  let index = 0
  let received = 0

  /** Each embedding's part of the reply: its entry's start and its JSON (the bytes Ollama sent, or a base64 string). */
  function partsOf(vectors: Uint8Array[]): Part[] {
    const parts: Part[] = []
    for (const vector of vectors)
      if (base64) parts.push(`${entryStart(index++)}"${base64OfVector(vector)}"`)
      else parts.push(entryStart(index++), vector)
    return parts
  }

  /** Reads the answer's next piece: the reply's parts it completes; after the last, the list's end too. */
  async function step(): Promise<{ parts: Part[]; done: boolean }> {
    let piece: Awaited<ReturnType<typeof upstream.read>>
    try {
      piece = await upstream.read()
    } catch (error) {
      throw new Unread(opened.failure(error))
    }
    if (process.env.EMBED_DEBUG) console.error('read', piece.done ? 'done' : piece.value.length, (performance.now() - facts.startedAt).toFixed(2))
    if (!piece.done) {
      received += piece.value.length
      return { parts: partsOf(answer.push(piece.value)), done: false }
    }
    const { vectors, promptEvalCount } = answer.end()
    const parts = partsOf(vectors)
    facts.promptTokens = tokenCount(promptEvalCount)
    parts.push(listEnd(body.model, facts.promptTokens))
    return { parts, done: true }
  }

  /** What a failure is to the client, recorded for the log; none when the client went away. */
  function failureOf(error: unknown): HttpError | undefined {
    const reason = error instanceof Unread ? error.reason : error
    if (isCancel(request, reason)) return void end(facts, 'cancelled')
    const failure =
      error instanceof Unread
        ? midStreamFailure(host, reason)
        : error instanceof HttpError
          ? error
          : new HttpError(502, `Ollama at ${host.url} answered something that is not JSON`, { code: 'upstream_error' })
    end(facts, outcomeOf(failure), failure.options.code!)
    return failure
  }

  // Before the 200: the answer's first WHOLE_BELOW bytes and its first vectors (or the whole of an answer laid out otherwise).
  const first: Part[] = []
  let done = false
  try {
    while (!done && (first.length === 0 || received < WHOLE_BELOW)) {
      const next = await step()
      first.push(...next.parts)
      done = next.done
    }
  } catch (error) {
    opened.close()
    throw failureOf(error) ?? clientGone()
  }
  if (!done) return relayed(request, facts, first, step, failureOf, opened)
  // Read whole already (a small batch arrives in one piece): answered as any body, checked before its 200.
  opened.close()
  end(facts, 'ok')
  return new Blob([LIST_START, ...first] as BlobPart[])
}

type Part = string | Uint8Array

/** A failure to read the upstream's answer (its connection broke, or the request was stopped), told apart from the answer's own faults. */
class Unread {
  constructor(readonly reason: unknown) {}
}

/**
 * The reply as a direct stream: the list's start, the `first` parts, then each piece's parts as
 * `step` reads them (written without waiting for a slow client: the answer is at most a few MB,
 * all of it held before anyway). A failure cuts the reply (see the file's header); the request
 * ends once, whichever comes first: the answer's end, Bun's cancel, or the client going away.
 */
function relayed(
  request: Request,
  facts: RequestFacts,
  first: Part[],
  step: () => Promise<{ parts: Part[]; done: boolean }>,
  failureOf: (error: unknown) => HttpError | undefined,
  opened: Opened<unknown>,
): ReadableStream {
  markStreaming(request)
  let over = false
  const finish = () => {
    if (over) return
    over = true
    request.signal.removeEventListener('abort', finish)
    opened.close()
    if (!facts.outcome) end(facts, 'cancelled')
    streamEnded(request)
  }
  request.signal.addEventListener('abort', finish, { once: true })
  const source: Bun.DirectUnderlyingSource = {
    type: 'direct',
    async pull(sink) {
      let cut: HttpError | undefined
      try {
        sink.write(LIST_START)
        for (let parts = first, done = false; ; ) {
          for (const part of parts) sink.write(part)
          if (done) break
          sink.flush()
          ;({ parts, done } = await step())
        }
        end(facts, 'ok')
        if (process.env.EMBED_DEBUG) console.error('written', (performance.now() - facts.startedAt).toFixed(2))
      } catch (error) {
        cut = failureOf(error)
      } finally {
        finish()
      }
      // Thrown from the source, a failure closes the connection before the body's end.
      if (cut) throw cut
      sink.close()
    },
    cancel: finish,
  }
  // The DOM typings (which the tests need) hide Bun's own constructor overload.
  return new ReadableStream(source as unknown as UnderlyingDefaultSource)
}
