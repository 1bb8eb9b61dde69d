// Which scope a request needs of an API key (issue 18), by where it goes: the model APIs need
// `inference`; the admin routes `admin`; keys and changes to the account `manage`; using one's
// conversations and ratings `inference`; reading one's own dashboard, logs, profile and
// conversations `read`. Sessions (JWTs) and keys made before scopes existed hold every scope
// their user's role allows (./principal.ts `mayAct`).
import type { Scope } from '../db/stores/keys'
import { matchesAny } from '../http/glob'

export function scopeNeeded(method: string, path: string): Scope {
  if (path === '/v1' || path.startsWith('/v1/')) return 'inference'
  if (path.startsWith('/api/admin')) return 'admin'
  if (path.startsWith('/api/keys')) return 'manage'
  if (method === 'GET' || method === 'HEAD') return 'read'
  if (path.startsWith('/api/auth/')) return 'manage'
  return path.startsWith('/api/conversations') || path.startsWith('/api/feedback') ? 'inference' : 'read'
}

/** Ollama resolves a bare name to its `:latest` tag: `llama3.2` allows `llama3.2:latest` and back. */
const tagged = (name: string) => (name.includes(':') ? name : `${name}:latest`)

/** Whether a key allowed `patterns` (names or globs) may use `model`. */
export const modelAllowed = (model: string, patterns: readonly string[]) =>
  matchesAny(model, patterns) || matchesAny(tagged(model), patterns.map((pattern) => (/[*?]/.test(pattern) ? pattern : tagged(pattern))))
