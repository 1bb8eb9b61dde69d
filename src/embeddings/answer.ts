// Ollama's /api/embed answer read from its bytes. Go writes it compactly:
// `{"model":…,"embeddings":[[0.0123,-0.0456,…],…],"total_duration":…,"prompt_eval_count":…}`, a
// megabyte of digits for 64 inputs of 768 values. Parsing those into numbers and printing them
// again (the float encoding) was most of the gateway's work per request (bench/README.md,
// "Embeddings"): instead each vector is checked against JSON's number grammar where it lies, its
// bytes are copied into the reply as they are, and for base64 its float32 values are read from
// them. Only the small rest of the answer goes through JSON.parse. An answer laid out otherwise
// (whitespace, say) is parsed whole, as any JSON.
import { checkedVectors } from './vectors'

export type EmbedAnswer = {
  /** Ollama's count of the inputs' tokens. */
  promptEvalCount: unknown
  /** The vectors' JSON texts, in input order. */
  json(): Uint8Array[]
  /** The vectors' float32 values, in input order. */
  floats(): Float32Array[]
}

const KEY = new TextEncoder().encode('"embeddings":[')
const decoder = new TextDecoder()
const encoder = new TextEncoder()

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39

/**
 * The index just past the JSON array of numbers that starts at `at` (its `[`), or -1 when none
 * does (an empty array is no embedding either). `counted.values` is set to its length.
 */
function numberArrayEnd(bytes: Uint8Array, at: number, counted: { values: number }): number {
  if (bytes[at] !== 0x5b) return -1
  let i = at + 1
  let values = 0
  for (;;) {
    if (bytes[i] === 0x2d) i++
    if (bytes[i] === 0x30) i++
    else if (isDigit(bytes[i])) while (isDigit(bytes[i])) i++
    else return -1
    if (bytes[i] === 0x2e) {
      if (!isDigit(bytes[++i])) return -1
      while (isDigit(bytes[i])) i++
    }
    if (bytes[i] === 0x65 || bytes[i] === 0x45) {
      i++
      if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++
      if (!isDigit(bytes[i])) return -1
      while (isDigit(bytes[i])) i++
    }
    values++
    if (bytes[i] === 0x2c) i++
    else if (bytes[i] === 0x5d) {
      counted.values = values
      return i + 1
    } else return -1
  }
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, n) => 10 ** n) // exact doubles up to 1e22

/**
 * Writes the float32 values of a checked array of numbers (see `numberArrayEnd`) into `floats`.
 * A mantissa below 2^53 times or divided by an exact power of ten is rounded once, so it is the
 * double JSON.parse reads; any other number is read by Number() from its text. The array was
 * checked: every number ends at a `,` or the closing `]`, so no read runs past it.
 */
function readFloats(bytes: Uint8Array, start: number, end: number, floats: Float32Array): void {
  let i = start + 1
  for (let n = 0; n < floats.length; n++) {
    const from = i
    let byte = bytes[i]!
    const negative = byte === 0x2d
    if (negative) byte = bytes[++i]!
    let mantissa = 0
    let scale = 0
    while (byte >= 0x30 && byte <= 0x39) {
      mantissa = mantissa * 10 + byte - 0x30
      byte = bytes[++i]!
    }
    if (byte === 0x2e) for (byte = bytes[++i]!; byte >= 0x30 && byte <= 0x39; byte = bytes[++i]!, scale++) mantissa = mantissa * 10 + byte - 0x30
    if (byte === 0x65 || byte === 0x45) {
      byte = bytes[++i]!
      const sign = byte === 0x2d ? -1 : 1
      if (byte === 0x2b || byte === 0x2d) byte = bytes[++i]!
      let exponent = 0
      for (; byte >= 0x30 && byte <= 0x39; byte = bytes[++i]!) exponent = Math.min(exponent * 10 + byte - 0x30, 1000)
      scale -= sign * exponent
    }
    let value: number
    if (mantissa < 2 ** 53 && scale >= 0 && scale <= 22) value = mantissa / POWERS_OF_TEN[scale]!
    else if (mantissa < 2 ** 53 && scale < 0 && scale >= -22) value = mantissa * POWERS_OF_TEN[-scale]!
    else value = Math.abs(Number(decoder.decode(bytes.subarray(from, i))))
    floats[n] = negative ? -value : value
    i++ // the `,` or `]`
  }
  if (i !== end) throw new Error('readFloats ended elsewhere than the array it read') // numberArrayEnd checked it: cannot happen
}

function lastIndexOf(bytes: Uint8Array, key: Uint8Array): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf(key)
}

/**
 * The answer, with `inputs` vectors. Throws when it is not JSON, and (through checkedVectors) a
 * 502 when it does not hold one array of finite numbers per input.
 */
export function readEmbedAnswer(bytes: Uint8Array, inputs: number, hostUrl: string): EmbedAnswer {
  // The last `"embeddings":[` is the key itself: inside a JSON string every quote is escaped.
  const keyAt = lastIndexOf(bytes, KEY)
  if (keyAt >= 0) {
    const spans: [number, number, number][] = []
    const counted = { values: 0 }
    let at = keyAt + KEY.length
    for (let n = 0; n < inputs; n++) {
      if (n > 0 && bytes[at++] !== 0x2c) break
      const end = numberArrayEnd(bytes, at, counted)
      if (end < 0) break
      spans.push([at, end, counted.values])
      at = end
    }
    if (spans.length === inputs && bytes[at] === 0x5d) {
      // The rest, with the vectors left out, checks that the whole is JSON and gives the counts.
      const rest = JSON.parse(`${decoder.decode(bytes.subarray(0, keyAt + KEY.length - 1))}[]${decoder.decode(bytes.subarray(at + 1))}`)
      return {
        promptEvalCount: rest?.prompt_eval_count,
        json: () => spans.map(([start, end]) => bytes.subarray(start, end)),
        floats: () => {
          // One buffer for them all, each vector a view of it.
          const all = new Float32Array(spans.reduce((sum, [, , length]) => sum + length, 0))
          let offset = 0
          return spans.map(([start, end, length]) => {
            const floats = all.subarray(offset, (offset += length))
            readFloats(bytes, start, end, floats)
            return floats
          })
        },
      }
    }
  }
  const answer = JSON.parse(decoder.decode(bytes))
  const vectors = checkedVectors(answer?.embeddings, inputs, hostUrl)
  return {
    promptEvalCount: answer.prompt_eval_count,
    json: () => vectors.map((vector) => encoder.encode(JSON.stringify(vector))),
    floats: () => vectors.map((vector) => new Float32Array(vector)),
  }
}
