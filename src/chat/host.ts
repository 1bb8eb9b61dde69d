// One Ollama host as the pool sees it: what the last check saw (reachable, latency, models)
// and how busy it is, with a client for the checks' short requests.
import { Ollama, type ModelResponse } from 'ollama/browser'
import { describeFailure } from './failures'

export type Host = {
  /** The host's address as shown in answers, health and logs: without any user:password in it. */
  url: string
  /** The address the clients use, credentials included. */
  endpoint: string
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
  /** The check under way, shared by whoever asks for one meanwhile. */
  checking?: Promise<void>
  /** A host that went silent in a chat stays out until then (performance.now()), however its checks go. */
  quietUntil: number
}

/** The URL without its user and password, which are secrets. */
export function displayUrl(endpoint: string): string {
  const url = new URL(endpoint)
  url.username = ''
  url.password = ''
  return url.toString().replace(/\/+$/, '')
}

export function newHost(endpoint: string, checkTimeoutMs: number): Host {
  // Every check request gets a timeout (the ollama client sets a signal only on streams).
  const fetchWithTimeout = ((input: RequestInfo | URL, init?: RequestInit) =>
    fetch(input, { ...init, signal: AbortSignal.timeout(checkTimeoutMs) })) as typeof fetch
  const client = new Ollama({ host: endpoint, fetch: fetchWithTimeout })
  return { url: displayUrl(endpoint), endpoint, client, reachable: undefined, models: new Map(), latencyMs: null, version: null, checkedAt: null, error: null, inFlight: 0, quietUntil: 0 }
}

/**
 * Ollama's version, or null when the host answers /api/version with an error: older builds
 * and emulators lack it, and any answer proves the host reachable.
 */
export async function versionOf(host: Host): Promise<string | null> {
  try {
    const { version } = await host.client.version()
    return typeof version === 'string' ? version : null
  } catch (error) {
    if (describeFailure(error).status === undefined) throw error
    return null
  }
}

/** The entries of an /api/tags answer that name a model (`name`, or only `model` in some emulators). */
export function listedModels(models: unknown): ModelResponse[] {
  if (!Array.isArray(models)) return []
  return models.flatMap((model) => {
    const name = model?.name ?? model?.model
    return typeof name === 'string' && name ? [{ ...model, name }] : []
  })
}

/** Ollama resolves a bare model name to its `:latest` tag. */
export const canonicalModel = (name: string) => (name.includes(':') ? name : `${name}:latest`)
