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
 * The base64 of a vector given as its JSON text, already checked against JSON's number grammar (see
 * answer.ts): each number read as JSON.parse reads it (the nearest double), then rounded to float32.
 * Numbers of at most 15 digits whose decimal exponent is within ±22 (all that Go writes for a
 * float32) are read exactly by one multiplication or division of two exact doubles, which IEEE
 * rounds correctly; others go through `Number`. Faster than JSON.parse into arrays (1.3 against
 * 1.8–2.3 ms for 64 vectors of 768 values in a micro-benchmark), and no array of numbers is made.
 */
export function base64OfVector(json: Uint8Array): string {
  // At most one value per two bytes ("0,").
  if (scratch.length < json.length / 2) scratch = new Float32Array(json.length)
  let count = 0
  let i = 1
  while (i < json.length - 1) {
    const start = i
    const negative = json[i] === 0x2d
    if (negative) i++
    let mantissa = 0
    let digits = 0
    let exponent = 0
    while (isDigit(json[i])) {
      mantissa = mantissa * 10 + json[i++]! - 0x30
      digits++
    }
    if (json[i] === 0x2e) {
      i++
      while (isDigit(json[i])) {
        mantissa = mantissa * 10 + json[i++]! - 0x30
        digits++
        exponent--
      }
    }
    if (json[i] === 0x65 || json[i] === 0x45) {
      i++
      const negativeExponent = json[i] === 0x2d
      if (negativeExponent || json[i] === 0x2b) i++
      let written = 0
      while (isDigit(json[i]) && written < 1e6) written = written * 10 + json[i++]! - 0x30
      while (isDigit(json[i])) i++
      exponent += negativeExponent ? -written : written
    }
    if (digits <= 15 && exponent >= -22 && exponent <= 22) {
      const value = exponent < 0 ? mantissa / EXACT_POWERS[-exponent]! : mantissa * EXACT_POWERS[exponent]!
      scratch[count++] = negative ? -value : value
    } else scratch[count++] = Number(Buffer.from(json.buffer, json.byteOffset + start, i - start).toString('latin1'))
    i++ // the comma, or the closing bracket
  }
  return float32Base64(scratch.subarray(0, count))
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
