// One Ollama host as the pool sees it: what the last check saw (reachable, latency, models)
// and how busy it is, with a client for the checks' short requests.
import { Ollama, type ModelResponse } from 'ollama/browser'

export type Host = {
  url: string
  /** Answers the checks' short requests (tags, show, version). */
  client: Ollama
  /** undefined until the first check ends. */
  reachable: boolean | undefined
  /** The models of the last successful check, by canonical name (`llama3.2:latest`). */
  models: Map<string, ModelResponse>
  latencyMs: number | null
  version: string | null
  checkedAt: number | null
  error: string | null
  inFlight: number
}

/** A fetch whose every request carries the given signal (the ollama client sets one only on streams, and we abort those ourselves). */
export const fetchWith = (signal: () => AbortSignal) =>
  ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, { ...init, signal: signal() })) as typeof fetch

export function newHost(url: string, checkTimeoutMs: number): Host {
  const client = new Ollama({ host: url, fetch: fetchWith(() => AbortSignal.timeout(checkTimeoutMs)) })
  return { url, client, reachable: undefined, models: new Map(), latencyMs: null, version: null, checkedAt: null, error: null, inFlight: 0 }
}

/** Ollama resolves a bare model name to its `:latest` tag. */
export const canonicalModel = (name: string) => (name.includes(':') ? name : `${name}:latest`)
