// Turns Ollama's generate messages into OpenAI's `text_completion` objects: one per piece of text
// for a stream (the same object type as the whole reply, as OpenAI streams it), and one for a
// plain reply. Ollama's per-token log probabilities become OpenAI's legacy `logprobs` object.
import type { GenerateResponse, Logprob } from 'ollama/browser'
import { tokenCount } from '../telemetry/facts'

export type TextCompletion = {
  id: string
  created: number
  model: string
  /** `stream_options.include_usage`: usage comes in a chunk of its own at the end. */
  includeUsage: boolean
  /** The request asked for log probabilities (`logprobs` set, 0 included). */
  logprobs: boolean
}

export type FinishReason = 'stop' | 'length'

/** OpenAI's legacy log probabilities: per token its text, its log probability, the alternatives considered, and where it starts in the text. */
export type TextLogprobs = {
  tokens: string[]
  token_logprobs: number[]
  top_logprobs: Record<string, number>[]
  text_offset: number[]
}

/** One piece of a stream: the text of one upstream message and the log probabilities of its tokens. */
export type Piece = { text: string; logprobs: TextLogprobs | null }

/** A time-ordered id (UUIDv7, hex), as chat completions have, with OpenAI's prefix for text completions. */
export function newTextCompletion(model: string, includeUsage: boolean, logprobs: boolean): TextCompletion {
  return { id: `cmpl-${Bun.randomUUIDv7('hex').replaceAll('-', '')}`, created: Math.floor(Date.now() / 1000), model, includeUsage, logprobs }
}

export function usageOf(final: GenerateResponse | undefined) {
  const prompt = tokenCount(final?.prompt_eval_count)
  const completion = tokenCount(final?.eval_count)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

const emptyLogprobs = (): TextLogprobs => ({ tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] })

/** Text offsets count characters (code points), as OpenAI counts them. */
const characters = (text: string) => {
  let count = 0
  for (const _ of text) count++
  return count
}

/**
 * Reads Ollama's generate messages in order and says what to send: the pieces of a stream, or
 * the whole reply. Text offsets run on from piece to piece: each is where its token starts in
 * the completion's text (the prompt is not echoed, so it is not counted).
 */
export class TextTranslator {
  text = ''
  final: GenerateResponse | undefined
  /** Upstream messages read so far, the final one not counted. */
  messages = 0
  /** Every token's log probabilities so far, for the whole reply. */
  private readonly logprobs: TextLogprobs | null
  private offset = 0
  private readonly head: string

  constructor(readonly completion: TextCompletion) {
    const { id, created, model } = completion
    this.head = `{"id":"${id}","object":"text_completion","created":${created},"model":${JSON.stringify(model)},"choices":[{"text":`
    this.logprobs = completion.logprobs ? emptyLogprobs() : null
  }

  get finishReason(): FinishReason {
    return this.final?.done_reason === 'length' ? 'length' : 'stop'
  }

  /** Records one upstream message and returns its piece of the stream (undefined when it adds nothing). */
  push(message: GenerateResponse): Piece | undefined {
    if (message.done) this.final = message
    else this.messages++
    const text = typeof message.response === 'string' ? message.response : ''
    this.text += text
    const tokens = this.logprobs && Array.isArray(message.logprobs) ? message.logprobs : []
    if (!text && tokens.length === 0) return undefined
    return { text, logprobs: this.logprobs ? this.addLogprobs(tokens) : null }
  }

  /** The log probabilities of one message's tokens in OpenAI's shape; kept for the whole reply too. */
  private addLogprobs(tokens: Logprob[]): TextLogprobs {
    const piece = emptyLogprobs()
    for (const { token, logprob, top_logprobs: top } of tokens) {
      // Keyed by token text: a token whose text an earlier, likelier alternative already had keeps that one's value.
      const alternatives = new Map<string, number>()
      for (const alternative of top ?? []) if (!alternatives.has(alternative.token)) alternatives.set(alternative.token, alternative.logprob)
      // OpenAI's list always holds the sampled token: up to `logprobs` + 1 entries.
      if (!alternatives.has(token)) alternatives.set(token, logprob)
      piece.tokens.push(token)
      piece.token_logprobs.push(logprob)
      piece.top_logprobs.push(Object.fromEntries(alternatives))
      piece.text_offset.push(this.offset)
      this.offset += characters(token)
    }
    const all = this.logprobs!
    all.tokens.push(...piece.tokens)
    all.token_logprobs.push(...piece.token_logprobs)
    all.top_logprobs.push(...piece.top_logprobs)
    all.text_offset.push(...piece.text_offset)
    return piece
  }

  /** One streamed `text_completion` carrying a piece, as JSON (the hot path: only the piece is serialised). */
  chunk(piece: Piece): string {
    return `${this.head}${JSON.stringify(piece.text)},"index":0,"logprobs":${JSON.stringify(piece.logprobs)},"finish_reason":null}]}`
  }

  /** The stream's last events: the finish chunk (with usage, unless the client asked for the separate usage chunk). */
  closingChunks(): string[] {
    const { id, created, model, includeUsage } = this.completion
    const usage = usageOf(this.final)
    const head = { id, object: 'text_completion', created, model }
    const finish = JSON.stringify({
      ...head,
      choices: [{ text: '', index: 0, logprobs: this.logprobs ? emptyLogprobs() : null, finish_reason: this.finishReason }],
      ...(includeUsage ? {} : { usage }),
    })
    return includeUsage ? [finish, JSON.stringify({ ...head, choices: [], usage })] : [finish]
  }

  /** The whole reply as one `text_completion`. */
  reply() {
    const { id, created, model } = this.completion
    return {
      id,
      object: 'text_completion' as const,
      created,
      model,
      choices: [{ text: this.text, index: 0, logprobs: this.logprobs, finish_reason: this.finishReason }],
      usage: usageOf(this.final),
    }
  }
}
