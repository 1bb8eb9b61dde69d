// Which chat requests get the same answer: the response cache's key is a SHA-256 of a canonical
// JSON (keys sorted at every level, so the order a client wrote them in does not matter) of the
// scope (a user, or everyone) and every field of the request that reaches the model: model,
// messages, sampling (temperature, top_p, seed, penalties), the output cap, stop, tools and
// tool_choice, response_format, reasoning_effort… Fields that change only how the answer is
// sent (stream, stream_options) or nothing at all (user and metadata, the caller's labels for the
// log; n, since a request for several choices never reaches the cache: src/chat/cached.ts) are
// left out, as are fields set to null (OpenAI clients' "not set").

/** Bumped when what a key names changes (the stored entry's shape): old entries are then never read. */
const FORMAT = 1

const IGNORED = new Set(['stream', 'stream_options', 'user', 'metadata', 'n', 'max_tokens', 'max_completion_tokens'])

/** The body as far as the key goes: the chat request's fields, two of them read here. */
export type Keyed = { max_tokens?: number | null; max_completion_tokens?: number | null } & Record<string, unknown>

/**
 * JSON with every object's keys in sorted order (undefined members left out, as JSON.stringify
 * does). Recursive: a request body nests at most MAX_JSON_DEPTH (100) levels (http/json-body.ts).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  const members = Object.keys(value)
    .filter((name) => (value as Record<string, unknown>)[name] !== undefined)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${canonicalJson((value as Record<string, unknown>)[name])}`)
  return `{${members.join(',')}}`
}

/**
 * The key of a request in a scope (`user:<id>` or `global`): 64 hex digits. The output cap is the
 * one the model gets (`max_completion_tokens` or `max_tokens`, clamped to MAX_OUTPUT_TOKENS), so
 * that asking for 100 tokens either way is the same request.
 */
export function cacheKey(scope: string, body: Keyed, maxOutputTokens: number): string {
  const request: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(body)) if (value !== null && value !== undefined && !IGNORED.has(name)) request[name] = value
  request.max_tokens = Math.min(body.max_completion_tokens ?? body.max_tokens ?? maxOutputTokens, maxOutputTokens)
  return new Bun.CryptoHasher('sha256').update(canonicalJson({ format: FORMAT, scope, request })).digest('hex')
}
