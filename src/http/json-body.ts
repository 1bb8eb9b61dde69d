// Reads the body of every route before anything else looks at it. The API takes JSON only: any
// other content type is a 415, so that an HTML form on another site cannot post to it from a
// victim's browser (a form can send urlencoded, multipart and text bodies, never JSON). The body
// must arrive within BODY_TIMEOUT_MS (408), nest no deeper than MAX_JSON_DEPTH and be a JSON
// object (400) — checked on the text, before it is parsed: a body of thousands of nested arrays
// would otherwise reach schema validation, whose error pretty-prints the value, blocking the
// event loop for seconds and taking gigabytes. The routes in `formPaths` (Apple's form_post
// callback) parse their urlencoded bodies themselves.
import { Elysia } from 'elysia'
import { BodyDeadline, bodyTimedOut } from './body-deadline'
import { timedOutBodies } from './chunked-body'
import { HttpError } from './errors'
import type { Runtime } from '../runtime'

/** Deeper than any body the API takes (a tool's JSON Schema, itself limited to 64 levels, sits 5 deep). */
export const MAX_JSON_DEPTH = 100

const invalidBody = (message: string, code: string) => new HttpError(400, message, { code })

/** True when the JSON text opens more than `limit` arrays or objects inside each other (strings are skipped). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      // Skip the string, escapes included.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i)
        if (s === 92 /* \ */) i++
        else if (s === 34) break
      }
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > limit) return true
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--
  }
  return false
}

const isJson = (type: string) => type === 'application/json' || type.endsWith('+json')

export const jsonBodies = (rt: Runtime, formPaths: RegExp) => {
  const deadline = new BodyDeadline(rt.config.bodyTimeoutMs)
  rt.onClose(() => deadline.stop())
  return new Elysia({ name: 'json-bodies' })
    .onRequest(({ request }) => {
      if (timedOutBodies.has(request)) throw bodyTimedOut()
    })
    .onParse({ as: 'global' }, async ({ request, path }, contentType) => {
      if (!request.body) return
      const type = contentType.trim().toLowerCase()
      if (type === 'application/x-www-form-urlencoded' && formPaths.test(path)) return
      if (!isJson(type)) {
        // A request without a body of its own (an empty POST) is judged by the route's schema.
        if (request.headers.get('content-length') === '0') return
        throw new HttpError(415, 'The request body must be JSON, sent with Content-Type: application/json', {
          code: 'unsupported_media_type',
        })
      }
      const text = await deadline.within(request.text())
      if (text.trim() === '') return
      if (nestsDeeperThan(text, MAX_JSON_DEPTH))
        throw invalidBody(`The request body nests deeper than ${MAX_JSON_DEPTH} levels`, 'too_deep')
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
