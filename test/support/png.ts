// Tiny real images for the fakes that make images: a 1×1 PNG tells tests apart by its one pixel.
import { deflateSync } from 'node:zlib'

const encoder = new TextEncoder()

/** A 1×1 RGB PNG whose pixel is (red, 0, 0), base64. */
export function onePixelPng(red: number): string {
  const crc32 = (bytes: Uint8Array) => {
    let c = ~0
    for (const byte of bytes) {
      c ^= byte
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1
    }
    return ~c >>> 0
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length)
    const view = new DataView(out.buffer)
    view.setUint32(0, data.length)
    out.set(encoder.encode(type), 4)
    out.set(data, 8)
    view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
    return out
  }
  const header = new Uint8Array(13)
  new DataView(header.buffer).setUint32(0, 1)
  new DataView(header.buffer).setUint32(4, 1)
  header.set([8, 2, 0, 0, 0], 8)
  const zlib = deflateSync(new Uint8Array([0, red & 255, 0, 0]))
  const png = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', zlib), chunk('IEND', new Uint8Array())]
  return Buffer.concat(png).toString('base64')
}
