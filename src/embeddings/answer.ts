// Ollama's /api/embed answer read from its bytes. Go writes it compactly:
// `{"model":…,"embeddings":[[0.0123,-0.0456,…],…],"total_duration":…,"prompt_eval_count":…}`, a
// megabyte of digits for 64 inputs of 768 values. Parsing those into numbers and printing them
// again (the float encoding) was most of the gateway's work per request (bench/README.md,
// "Embeddings"): instead each vector is checked against JSON's number grammar where it lies, and
// its bytes are copied into the reply as they are; for base64 each vector is read into float32 in
// the pass that checks it (vectors.ts). The small rest of the answer goes through JSON.parse. An
// answer laid out otherwise (whitespace, say) is parsed whole, as any JSON.
import { base64VectorAt, checkedVectors, float32Base64, numberArrayEnd } from './vectors'

/** How the reply gives the vectors: OpenAI's `encoding_format`. */
export type Encoding = 'float' | 'base64'

export type EmbedAnswer = {
  /** Ollama's count of the inputs' tokens. */
  promptEvalCount: unknown
  /** The vectors in input order: their JSON texts (`float`), or their little-endian float32 bytes in base64. */
  vectors: Uint8Array[] | string[]
}

const KEY = new TextEncoder().encode('"embeddings":[')
const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** The vectors laid out as Go writes them from `at` (just past the key), and the index past the last; undefined when they are not. */
function vectorsAt(bytes: Uint8Array, at: number, inputs: number, encoding: Encoding): { vectors: Uint8Array[] | string[]; end: number } | undefined {
  const json: Uint8Array[] = []
  const base64: string[] = []
  for (let n = 0; n < inputs; n++) {
    if (n > 0 && bytes[at++] !== 0x2c) return undefined
    if (encoding === 'base64') {
      const vector = base64VectorAt(bytes, at)
      if (!vector) return undefined
      base64.push(vector.base64)
      at = vector.end
    } else {
      const end = numberArrayEnd(bytes, at)
      if (end < 0) return undefined
      json.push(bytes.subarray(at, end))
      at = end
    }
  }
  return { vectors: encoding === 'base64' ? base64 : json, end: at }
}

function lastIndexOf(bytes: Uint8Array, key: Uint8Array): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf(key)
}

/**
 * The answer, with `inputs` vectors, in `encoding`. Throws when it is not JSON, and (through
 * checkedVectors) a 502 when it does not hold one array of finite numbers per input.
 */
export function readEmbedAnswer(bytes: Uint8Array, inputs: number, hostUrl: string, encoding: Encoding): EmbedAnswer {
  // The last `"embeddings":[` is the key itself: inside a JSON string every quote is escaped.
  const keyAt = lastIndexOf(bytes, KEY)
  const laidOut = keyAt >= 0 ? vectorsAt(bytes, keyAt + KEY.length, inputs, encoding) : undefined
  if (laidOut && bytes[laidOut.end] === 0x5d) {
    // The rest, with the vectors left out, checks that the whole is JSON and gives the counts.
    const rest = JSON.parse(`${decoder.decode(bytes.subarray(0, keyAt + KEY.length - 1))}[]${decoder.decode(bytes.subarray(laidOut.end + 1))}`)
    return { promptEvalCount: rest?.prompt_eval_count, vectors: laidOut.vectors }
  }
  const answer = JSON.parse(decoder.decode(bytes))
  const vectors = checkedVectors(answer?.embeddings, inputs, hostUrl)
  return {
    promptEvalCount: answer.prompt_eval_count,
    vectors: encoding === 'base64' ? vectors.map((vector) => float32Base64(new Float32Array(vector))) : vectors.map((vector) => encoder.encode(JSON.stringify(vector))),
  }
}
