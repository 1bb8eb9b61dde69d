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
