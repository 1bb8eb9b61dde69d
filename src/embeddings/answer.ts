// Ollama's /api/embed answer read from its bytes. Go writes it compactly:
// `{"model":…,"embeddings":[[0.0123,-0.0456,…],…],"total_duration":…,"prompt_eval_count":…}`, a
// megabyte of digits for 64 inputs of 768 values. Parsing those into numbers and printing them
// again (the float encoding) was most of the gateway's work per request (bench/README.md,
// "Embeddings"): instead each vector is checked against JSON's number grammar where it lies, and
// its bytes are copied into the reply as they are; only for base64 are the vectors read, one at a
// time, into float32 (vectors.ts). The small rest of the answer goes through JSON.parse. An
// answer laid out otherwise (whitespace, say) is parsed whole, as any JSON.
import { base64OfVector, checkedVectors, float32Base64 } from './vectors'

export type EmbedAnswer = {
  /** Ollama's count of the inputs' tokens. */
  promptEvalCount: unknown
  /** The vectors' JSON texts, in input order. */
  json(): Uint8Array[]
  /** The vectors' little-endian float32 bytes in base64, in input order. */
  base64(): string[]
}

const KEY = new TextEncoder().encode('"embeddings":[')
const decoder = new TextDecoder()
const encoder = new TextEncoder()

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39

/**
 * The index just past the JSON array of numbers that starts at `at` (its `[`), or -1 when none
 * does (an empty array is no embedding either).
 */
function numberArrayEnd(bytes: Uint8Array, at: number): number {
  if (bytes[at] !== 0x5b) return -1
  let i = at + 1
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
    if (bytes[i] === 0x2c) i++
    else if (bytes[i] === 0x5d) return i + 1
    else return -1
  }
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
    const spans: [number, number][] = []
    let at = keyAt + KEY.length
    for (let n = 0; n < inputs; n++) {
      if (n > 0 && bytes[at++] !== 0x2c) break
      const end = numberArrayEnd(bytes, at)
      if (end < 0) break
      spans.push([at, end])
      at = end
    }
    if (spans.length === inputs && bytes[at] === 0x5d) {
      // The rest, with the vectors left out, checks that the whole is JSON and gives the counts.
      const rest = JSON.parse(`${decoder.decode(bytes.subarray(0, keyAt + KEY.length - 1))}[]${decoder.decode(bytes.subarray(at + 1))}`)
      return {
        promptEvalCount: rest?.prompt_eval_count,
        json: () => spans.map(([start, end]) => bytes.subarray(start, end)),
        base64: () => spans.map(([start, end]) => base64OfVector(bytes.subarray(start, end))),
      }
    }
  }
  const answer = JSON.parse(decoder.decode(bytes))
  const vectors = checkedVectors(answer?.embeddings, inputs, hostUrl)
  return {
    promptEvalCount: answer.prompt_eval_count,
    json: () => vectors.map((vector) => encoder.encode(JSON.stringify(vector))),
    base64: () => vectors.map((vector) => float32Base64(new Float32Array(vector))),
  }
}
