// Reads the body of every route before anything else looks at it. The API takes JSON only: any
// other content type is a 415, so that an HTML form on another site cannot post to it from a
// victim's browser (a form can send urlencoded, multipart and text bodies, never JSON). The body
// must arrive within BODY_TIMEOUT_MS (408), nest no deeper than MAX_JSON_DEPTH and be a JSON
// object (400) — the nesting checked on the bytes before anything is parsed or made a string: a
// body of thousands of nested arrays would otherwise reach schema validation, whose error
// pretty-prints the value, blocking the event loop for seconds and taking gigabytes. The routes
// in `formPaths` (Apple's form_post callback) take a urlencoded form instead, read here too,
// within the same deadline.
import { Elysia } from 'elysia'
import { BodyDeadline, bodyTimedOut } from './body-deadline'
import { timedOutBodies } from './chunked-body'
import { HttpError } from './errors'

/** Deeper than any body the API takes (a tool's JSON Schema, itself limited to 64 levels, sits 5 deep). */
export const MAX_JSON_DEPTH = 100

const invalidBody = (message: string, code: string) => new HttpError(400, message, { code })

/**
 * Follows how deep a JSON text nests, chunk by chunk, as its bytes arrive (brackets inside strings
 * do not count; in UTF-8 no byte of a multi-byte character looks like one of these ASCII marks).
 */
export class NestingScanner {
  private depth = 0
  private inString = false
  private escaped = false
  constructor(private readonly limit: number) {}

  /** False once the text has nested deeper than the limit. */
  push(bytes: Uint8Array): boolean {
    let { depth, inString, escaped } = this
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!
      if (inString) {
        if (escaped) escaped = false
        else if (b === 92 /* \ */) escaped = true
        else if (b === 34 /* " */) inString = false
      } else if (b === 34) inString = true
      else if (b === 91 /* [ */ || b === 123 /* { */) {
        if (++depth > this.limit) return false
      } else if (b === 93 /* ] */ || b === 125 /* } */) depth--
    }
    Object.assign(this, { depth, inString, escaped })
    return true
  }
}

const tooDeep = () => invalidBody(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`, 'too_deep')

/**
 * The body's text, refused when it nests too deep, checked on its bytes before it becomes a
 * string. A body of declared length (every body the server hands on: see chunked-body.ts), at
 * most MAX_BODY_BYTES as the body limit checked first, is read whole by Bun itself: read through
 * a stream, each request's body cost a 256 KiB buffer of Bun's stream machinery, and with it more
 * frequent garbage collections (bench/README.md, "Overhead"). Any other (`app.handle` with a
 * body of unknown length) is read chunk by chunk, refused as soon as it nests too deep: its rest
 * is never held in memory.
 */
async function readShallowJson(request: Request): Promise<string> {
  if (request.headers.has('content-length')) {
    const bytes = await request.bytes()
    if (!new NestingScanner(MAX_JSON_DEPTH).push(bytes)) throw tooDeep()
    return decoder.decode(bytes)
  }
  const reader = request.body!.getReader()
  const scanner = new NestingScanner(MAX_JSON_DEPTH)
  const chunks: Uint8Array[] = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (!scanner.push(value)) {
      void reader.cancel().catch(() => {})
      throw tooDeep()
    }
    chunks.push(value)
  }
  return chunks.length === 1 ? decoder.decode(chunks[0]) : decoder.decode(Buffer.concat(chunks))
}

const decoder = new TextDecoder()

const isJson = (type: string) => type === 'application/json' || type.endsWith('+json')

/** `onClose` registers how to stop the body deadline's timer when the server closes. */
export const jsonBodies = (bodyTimeoutMs: number, formPaths: RegExp, onClose: (stop: () => void) => void) => {
  const deadline = new BodyDeadline(bodyTimeoutMs)
  onClose(() => deadline.stop())
  return new Elysia({ name: 'json-bodies' })
    .onRequest(({ request }) => {
      if (timedOutBodies.has(request)) throw bodyTimedOut()
    })
    .onParse({ as: 'global' }, async ({ request, path }, contentType) => {
      if (!request.body) return
      const type = contentType.trim().toLowerCase()
      if (type === 'application/x-www-form-urlencoded' && formPaths.test(path))
        return Object.fromEntries(new URLSearchParams(await deadline.within(request.text())))
      if (!isJson(type)) {
        // A request without a body of its own (an empty POST) is judged by the route's schema.
        if (request.headers.get('content-length') === '0') return
        throw new HttpError(415, 'The request body must be JSON, sent with Content-Type: application/json', {
          code: 'unsupported_media_type',
        })
      }
      const text = await deadline.within(readShallowJson(request))
      if (text.trim() === '') return
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        throw invalidBody('The request body is not valid JSON', 'invalid_json')
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw invalidBody('The request body must be a JSON object, sent with Content-Type: application/json', 'invalid_body')
      return value
    })
}
