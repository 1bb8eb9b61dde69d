// Embeddings as OpenAI answers them: arrays of numbers, or with `encoding_format: "base64"` the
// little-endian float32 bytes of each vector in base64 (the official `openai` clients ask for
// base64 by default and decode it themselves: a quarter of the bytes, no number parsing).
import { HttpError } from '../http/errors'

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** The float32 values' bytes, little-endian, in base64. */
export function float32Base64(floats: Float32Array): string {
  if (littleEndian) return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64')
  const bytes = new DataView(new ArrayBuffer(floats.byteLength))
  for (let i = 0; i < floats.length; i++) bytes.setFloat32(i * 4, floats[i]!, true)
  return Buffer.from(bytes.buffer).toString('base64')
}

/** Powers of ten that doubles hold exactly. */
const EXACT_POWERS = Array.from({ length: 23 }, (_, i) => 10 ** i)
/** One vector's values at a time, reused: its base64 is made at once. */
let scratch = new Float32Array(4096)

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39

/**
 * The index just past the JSON array of numbers that starts at `at` (its `[`), or -1 when none
 * does (an empty array is no embedding either, nor a number too large for a double): each number
 * checked against JSON's grammar where it lies. With `read`, each is also read as JSON.parse reads
 * it (the nearest double) into `read.values` (so, float32), their count in `read.count`: one pass
 * over the digits for both.
 * Numbers of at most 15 digits whose decimal exponent is within ±22 (all that Go writes for a
 * float32) are read exactly by one multiplication or division of two exact doubles, which IEEE
 * rounds correctly; others go through `Number`. Faster than JSON.parse into arrays (1.3 against
 * 1.8–2.3 ms for 64 vectors of 768 values in a micro-benchmark), and no array of numbers is made;
 * checking and reading in one pass, 0.9–1.2 ms against 1.7–2.1 for a check, then a read.
 */
export function numberArrayEnd(bytes: Uint8Array, at: number, read?: { values: Float32Array; count: number }): number {
  if (bytes[at] !== 0x5b) return -1
  let i = at + 1
  for (;;) {
    const start = i
    const negative = bytes[i] === 0x2d
    if (negative) i++
    let mantissa = 0
    let digits = 0
    let exponent = 0
    const integerStart = i
    if (bytes[i] === 0x30) i++
    else if (!isDigit(bytes[i])) return -1
    else if (!read) while (isDigit(bytes[i])) i++
    else
      while (isDigit(bytes[i])) {
        mantissa = mantissa * 10 + bytes[i++]! - 0x30
        digits++
      }
    const integerDigits = i - integerStart
    if (integerDigits > 308) return -1
    if (bytes[i] === 0x2e) {
      if (!isDigit(bytes[++i])) return -1
      if (!read) while (isDigit(bytes[i])) i++
      else
        while (isDigit(bytes[i])) {
          mantissa = mantissa * 10 + bytes[i++]! - 0x30
          digits++
          exponent--
        }
    }
    if (bytes[i] === 0x65 || bytes[i] === 0x45) {
      i++
      const negativeExponent = bytes[i] === 0x2d
      if (negativeExponent || bytes[i] === 0x2b) i++
      if (!isDigit(bytes[i])) return -1
      let written = 0
      while (isDigit(bytes[i])) {
        if (written < 1e6) written = written * 10 + bytes[i]! - 0x30
        i++
      }
      exponent += negativeExponent ? -written : written
      // At 10^309 or more a double is Infinity: not an embedding's value (and not copied as one).
      if (!negativeExponent && integerDigits + written > 308) return -1
    }
    if (read) {
      if (read.count === read.values.length) read.values = grown(read.values)
      if (digits <= 15 && exponent >= -22 && exponent <= 22) {
        const value = exponent < 0 ? mantissa / EXACT_POWERS[-exponent]! : mantissa * EXACT_POWERS[exponent]!
        read.values[read.count++] = negative ? -value : value
      } else read.values[read.count++] = Number(Buffer.from(bytes.buffer, bytes.byteOffset + start, i - start).toString('latin1'))
    }
    if (bytes[i] === 0x2c) i++
    else if (bytes[i] === 0x5d) return i + 1
    else return -1
  }
}

function grown(values: Float32Array) {
  const more = new Float32Array(values.length * 2)
  more.set(values)
  return more
}

/**
 * The base64 of the vector (a JSON array of numbers) at `at` in `bytes`, and the index just past
 * it; undefined when no vector is there (see `numberArrayEnd`).
 */
export function base64VectorAt(bytes: Uint8Array, at: number): { base64: string; end: number } | undefined {
  const read = { values: scratch, count: 0 }
  const end = numberArrayEnd(bytes, at, read)
  scratch = read.values
  return end < 0 ? undefined : { base64: float32Base64(read.values.subarray(0, read.count)), end }
}

/**
 * Ollama's `embeddings`, checked: one array of finite numbers per input. Anything else (a proxy's
 * page, another server's answer) is a 502, never a reply with holes or NaN in it.
 */
export function checkedVectors(embeddings: unknown, inputs: number, hostUrl: string): number[][] {
  const broken = (what: string) => new HttpError(502, `Ollama at ${hostUrl} answered ${what}`, { code: 'upstream_error' })
  if (!Array.isArray(embeddings)) throw broken('without embeddings')
  if (embeddings.length !== inputs) throw broken(`${embeddings.length} embeddings for ${inputs} inputs`)
  for (const vector of embeddings) {
    if (!Array.isArray(vector) || vector.length === 0) throw broken('an embedding that is not an array of numbers')
    for (const value of vector) if (typeof value !== 'number' || !Number.isFinite(value)) throw broken('an embedding that is not an array of numbers')
  }
  return embeddings as number[][]
}
