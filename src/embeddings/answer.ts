// Ollama's /api/embed answer read as its bytes arrive. Go writes it compactly:
// `{"model":…,"embeddings":[[0.0123,-0.0456,…],…],"total_duration":…,"prompt_eval_count":…}`, a
// megabyte of digits for 64 inputs of 768 values. Parsing those into numbers and printing them
// again (the float encoding), and waiting for the whole answer before sending anything, was most
// of what the gateway added to a request (bench/README.md, "Embeddings"): instead each vector is
// checked against JSON's number grammar where it lies and handed out as its bytes as soon as it is
// whole, so the reply is sent while the answer still arrives. The small rest of the answer (before
// and after the vectors) goes through JSON.parse at the end. An answer laid out otherwise
// (whitespace, say) is kept and parsed whole at its end, as any JSON.
import { brokenAnswer, checkedVectors } from './vectors'

const KEY = new TextEncoder().encode('"embeddings":[')
const COMMA = 0x2c
const CLOSE = 0x5d
const EMPTY: Uint8Array = new Uint8Array(0)
const MAX_HEAD = 65_536
const decoder = new TextDecoder()
const encoder = new TextEncoder()

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39

/** `vectorEnd`'s answers besides an index: the bytes ran out before the vector closed, or it is not an array of numbers. */
const INCOMPLETE = -1
const INVALID = -2

/**
 * The index just past the JSON array of numbers that starts at `at` (its `[`), INCOMPLETE when the
 * bytes end before it does, or INVALID when none starts there (an empty array is no embedding either).
 */
export function vectorEnd(bytes: Uint8Array, at: number): number {
  if (bytes[at] !== 0x5b) return at < bytes.length ? INVALID : INCOMPLETE
  let i = at + 1
  const stop = () => (i < bytes.length ? INVALID : INCOMPLETE)
  for (;;) {
    if (bytes[i] === 0x2d) i++
    if (bytes[i] === 0x30) i++
    else if (isDigit(bytes[i])) while (isDigit(bytes[i])) i++
    else return stop()
    if (bytes[i] === 0x2e) {
      if (!isDigit(bytes[++i])) return stop()
      while (isDigit(bytes[i])) i++
    }
    if (bytes[i] === 0x65 || bytes[i] === 0x45) {
      i++
      if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++
      if (!isDigit(bytes[i])) return stop()
      while (isDigit(bytes[i])) i++
    }
    if (bytes[i] === COMMA) i++
    else if (bytes[i] === CLOSE) return i + 1
    else return stop()
  }
}

function joined(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
}

/** Whether `head`, the text before the key, is the start of one flat object (the key is the answer's own, not a nested one's). */
function isTopLevel(head: string): boolean {
  try {
    const object = JSON.parse(`${head}"embeddings":[]}`)
    return typeof object === 'object' && object !== null && !Array.isArray(object)
  } catch {
    return false
  }
}

/**
 * Reads one answer for `inputs` inputs: `push` each piece of it as it arrives, then `end`. Both
 * throw a 502 (HttpError) when the answer does not hold one array of finite numbers per input,
 * and a SyntaxError when it is not JSON.
 */
export class EmbedAnswerReader {
  private phase: 'head' | 'vectors' | 'tail' | 'whole' = 'head'
  /** Bytes not read yet: the start of a vector (or of the head) whose end has not arrived. */
  private pending = EMPTY
  /** Everything received until the first vectors are handed out: what an answer laid out otherwise is parsed from. */
  private received: Uint8Array[] | undefined = []
  /** The text before the vectors, and the bytes after them. */
  private head = ''
  private rest: Uint8Array[] = []
  private count = 0
  private afterVector = false

  constructor(
    private readonly inputs: number,
    private readonly hostUrl: string,
  ) {}

  /** The vectors (each its JSON text's bytes) that `piece` completes, in input order. */
  push(piece: Uint8Array): Uint8Array[] {
    this.received?.push(piece)
    const vectors = this.take(piece)
    if (vectors.length > 0) this.received = undefined
    return vectors
  }

  private take(piece: Uint8Array): Uint8Array[] {
    if (this.phase === 'whole' || this.phase === 'tail') {
      if (this.phase === 'tail') this.rest.push(piece)
      return []
    }
    if (this.pending.length && this.phase === 'vectors') {
      // The vector begun in the last piece ends at this one's first `]`: only that much is joined
      // to it (not the whole piece, a large copy per read), the rest read where it lies.
      const close = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).indexOf(CLOSE)
      if (close >= 0 && close < piece.length - 1) {
        const vectors = this.read(Buffer.concat([this.pending, piece.subarray(0, close + 1)]))
        const more = this.take(piece.subarray(close + 1))
        // Parsed whole after all: this piece's vectors are not handed out either.
        return this.phase === 'whole' ? [] : vectors.concat(more)
      }
    }
    return this.read(this.pending.length ? Buffer.concat([this.pending, piece]) : piece)
  }

  /** `take` for the pending bytes joined to what follows them. */
  private read(bytes: Uint8Array): Uint8Array[] {
    this.pending = EMPTY
    let at = 0
    if (this.phase === 'head') {
      const keyAt = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(KEY)
      if (keyAt < 0) {
        // Ollama's head is a few dozen bytes: a long one is another layout's.
        if (bytes.length > MAX_HEAD) return this.parseWhole()
        this.pending = bytes
        return []
      }
      this.head = decoder.decode(bytes.subarray(0, keyAt))
      if (!isTopLevel(this.head)) return this.parseWhole()
      this.phase = 'vectors'
      at = keyAt + KEY.length
    }
    const vectors: Uint8Array[] = []
    for (;;) {
      if (this.afterVector || this.count === 0) {
        const byte = bytes[at]
        if (byte === undefined) break
        if (byte === CLOSE) {
          this.phase = 'tail'
          this.rest.push(bytes.subarray(at + 1))
          break
        }
        if (this.afterVector) {
          if (byte !== COMMA) return this.notNumbers()
          at++
          this.afterVector = false
        }
      }
      const end = vectorEnd(bytes, at)
      if (end === INCOMPLETE) {
        this.pending = bytes.subarray(at)
        break
      }
      if (end === INVALID) return this.notNumbers()
      if (++this.count > this.inputs) throw brokenAnswer(this.hostUrl, `more embeddings than the ${this.inputs} inputs`)
      vectors.push(bytes.subarray(at, end))
      at = end
      this.afterVector = true
    }
    return vectors
  }

  /** The answer's end: the vectors still to hand out (those of an answer parsed whole) and Ollama's count of the inputs' tokens. */
  end(): { vectors: Uint8Array[]; promptEvalCount: unknown } {
    if (this.phase === 'tail') {
      const rest = JSON.parse(`${this.head}"embeddings":[]${decoder.decode(joined(this.rest))}`)
      if (this.count !== this.inputs) throw brokenAnswer(this.hostUrl, `${this.count} embeddings for ${this.inputs} inputs`)
      return { vectors: [], promptEvalCount: rest.prompt_eval_count }
    }
    // The key never came, or the answer stopped inside the vectors (after some were handed out: a cut answer).
    if (!this.received) throw new SyntaxError('the answer ended inside its embeddings')
    const answer = JSON.parse(decoder.decode(joined(this.received)))
    const vectors = checkedVectors(answer?.embeddings, this.inputs, this.hostUrl)
    return { vectors: vectors.map((vector) => encoder.encode(JSON.stringify(vector))), promptEvalCount: answer.prompt_eval_count }
  }

  /** Something other than a vector where one should be: an answer laid out otherwise when nothing was handed out yet, else a 502. */
  private notNumbers(): Uint8Array[] {
    if (!this.received) throw brokenAnswer(this.hostUrl, 'an embedding that is not an array of numbers')
    return this.parseWhole()
  }

  private parseWhole(): Uint8Array[] {
    this.phase = 'whole'
    this.pending = EMPTY
    return []
  }
}
