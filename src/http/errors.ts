// One place that turns every failure into the envelope its API family expects:
// the seed's `{error, message, timestamp}` under /api, OpenAI's `{error: {…}}` under /v1, and
// Anthropic's `{type: "error", error: {type, message}}` under /v1/messages (src/messages/).
import { Elysia, ValidationError } from 'elysia'

const apiTitles: Record<number, string> = {
  400: 'Validation error',
  401: 'Authentication failed',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'Request timeout',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Rate limit exceeded',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
}

const openAiTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  408: 'timeout',
  409: 'invalid_request_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_exceeded',
  500: 'server_error',
  502: 'upstream_error',
  503: 'service_unavailable',
  504: 'timeout',
}

/** Anthropic's error types by status (its SDK picks the error class by status, and reads the type). */
const anthropicTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  408: 'timeout_error',
  409: 'conflict_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
}

/** The paths of Anthropic's Messages API, answered in its envelope. */
const isAnthropicPath = (path: string) => path === '/v1/messages' || path.startsWith('/v1/messages/')

/** A failure with a status and a message that is safe to show the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly options: {
      title?: string
      param?: string | null
      code?: string | null
      /** OpenAI's error type, where it is not the status's usual one (`insufficient_quota` for a 429). */
      type?: string
      headers?: Record<string, string>
    } = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

export function errorBody(path: string, status: number, message: string, options: HttpError['options'] = {}) {
  if (isAnthropicPath(path))
    return {
      type: 'error',
      error: { type: anthropicTypes[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message },
    }
  if (path.startsWith('/v1/') || path === '/v1')
    return {
      error: {
        message,
        type: options.type ?? openAiTypes[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
        param: options.param ?? null,
        code: options.code ?? null,
      },
    }
  return {
    error: options.title ?? apiTitles[status] ?? (status >= 500 ? 'Internal server error' : 'Request error'),
    message,
    timestamp: new Date().toISOString(),
  }
}

export function errorResponse(path: string, error: HttpError, headers: Record<string, string> = {}): Response {
  return Response.json(errorBody(path, error.status, error.message, error.options), {
    status: error.status,
    headers: { ...headers, ...error.options.headers },
  })
}

/**
 * Names the offending field of a schema failure and what it expects, e.g. `messages.0.role: role
 * must be one of …`, and never what was sent: the message is our own `error` text or TypeBox's
 * ("Expected string"); Elysia's summary ("… but found: <value>") would echo a password back.
 */
function describeValidation(error: ValidationError): { message: string; param: string | null } {
  const first = error.valueError as { path?: string; message?: string } | undefined
  const param = first?.path ? first.path.replace(/^\//, '').replaceAll('/', '.') : null
  const where = param || (error.type === 'body' ? 'body' : error.type)
  const custom = typeof error.customError === 'string' ? error.customError : undefined
  const detail = custom ?? first?.message ?? 'is invalid'
  // A query or path parameter Elysia converts (an integer, a boolean) fails without its name: its message names it.
  if (error.type === 'property') return { message: `Invalid parameter: ${detail}`, param }
  const value = error.value as unknown
  if (error.type === 'body' && (value === null || typeof value !== 'object' || Array.isArray(value)))
    return { message: 'The request body must be a JSON object, sent with Content-Type: application/json', param: null }
  return { message: `Invalid ${error.type} field '${where}': ${detail}`, param }
}

/**
 * PostgreSQL out of reach: the connection refused, closed or timed out, the server shutting
 * down or out of connections. A 503 the client may retry (on another replica), not a bug.
 */
export function databaseUnreachable(error: unknown) {
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown }
  return (
    (typeof code === 'string' && /^ERR_POSTGRES_(CONNECTION_|.*TIMEOUT)/.test(code)) ||
    (typeof errno === 'string' && /^(08|57P0|53300)/.test(errno))
  )
}

function toHttpError(code: string | number, error: unknown): HttpError {
  if (error instanceof HttpError) return error
  if (databaseUnreachable(error))
    return new HttpError(503, 'The database cannot be reached; try again in a moment', {
      code: 'database_unavailable',
      headers: { 'retry-after': '1' },
    })
  if (error instanceof ValidationError) {
    const { message, param } = describeValidation(error)
    return new HttpError(400, message, { param, code: 'invalid_value' })
  }
  switch (code) {
    case 'PARSE':
      // The json-body plugin's own refusals (415, 408, too deep) arrive wrapped in Elysia's ParseError.
      if ((error as Error).cause instanceof HttpError) return (error as Error).cause as HttpError
      return new HttpError(400, 'The request body is not valid JSON', { code: 'invalid_json' })
    case 'NOT_FOUND':
      return new HttpError(404, 'No such endpoint', { code: 'not_found' })
    case 'INVALID_COOKIE_SIGNATURE':
      return new HttpError(400, 'A cookie signature is invalid')
  }
  const status = (error as { status?: unknown })?.status
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new HttpError(status, (error as Error).message || apiTitles[status] || 'Request error')
  return new HttpError(500, 'Something went wrong on our side; the request id identifies it in the logs')
}

export type MethodLookup = (method: string, path: string) => string[]

/**
 * Installs the global error handler. `allowedMethods` tells which methods a path has, so that
 * a known path called with the wrong method answers 405 instead of 404.
 */
export const errors = (allowedMethods: MethodLookup) =>
  new Elysia({ name: 'errors' }).onError({ as: 'global' }, ({ code, error, request, path, set }) => {
    let failure = toHttpError(code, error)
    const headers: Record<string, string> = {}
    if (code === 'NOT_FOUND') {
      const allowed = allowedMethods(request.method, path)
      if (allowed.length) {
        failure = new HttpError(405, `Method ${request.method} is not allowed here; use ${allowed.join(', ')}`, { code: 'method_not_allowed' })
        headers.allow = allowed.join(', ')
      }
    }
    if (failure.status >= 500 && !(error instanceof HttpError))
      console.error(`[${set.headers['x-request-id'] ?? '-'}] ${request.method} ${path}:`, error)
    for (const [name, value] of Object.entries(set.headers)) if (typeof value === 'string') headers[name] = value
    // Later hooks (telemetry, flood detection) read the final status from here.
    set.status = failure.status
    return errorResponse(path, failure, headers)
  })
