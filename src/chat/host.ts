// One upstream host as the pool sees it: what the last check saw (reachable, latency, models)
// and how busy it is. Most are Ollama hosts, with a client for the checks' short requests; some
// are servers that speak OpenAI's API (OPENAI_UPSTREAMS: vLLM, llama.cpp, an image server).
import { Ollama, type ModelResponse } from 'ollama/browser'
import type { OpenAiUpstream } from '../config'
import { describeFailure } from './failures'

export type Host = HostState & (OllamaHost | OpenAiHost)

type OllamaHost = {
  kind: 'ollama'
  /** Answers the checks' short requests (tags, show, version). */
  client: Ollama
}

type OpenAiHost = {
  kind: 'openai'
  /** Its name in OPENAI_UPSTREAMS, shown as its models' owner. */
  name: string
  /** Sent as a Bearer token; never shown. */
  apiKey?: string
  /** What its models do, as configured: OpenAI's model list does not say. */
  capabilities: string[]
}

type HostState = {
  /** The host's address as shown in answers, health and logs: without any user:password in it. */
  url: string
  /** The address the clients use, credentials included. */
  endpoint: string
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

const freshState = (endpoint: string): HostState => ({
  url: displayUrl(endpoint), endpoint, reachable: undefined, models: new Map(), latencyMs: null, version: null, checkedAt: null, error: null, inFlight: 0, quietUntil: 0,
})

export function newHost(endpoint: string, checkTimeoutMs: number): Host {
  // Every check request gets a timeout (the ollama client sets a signal only on streams).
  const fetchWithTimeout = ((input: RequestInfo | URL, init?: RequestInit) =>
    fetch(input, { ...init, signal: AbortSignal.timeout(checkTimeoutMs) })) as typeof fetch
  return { ...freshState(endpoint), kind: 'ollama', client: new Ollama({ host: endpoint, fetch: fetchWithTimeout }) }
}

export function newOpenAiHost(upstream: OpenAiUpstream): Host {
  return { ...freshState(upstream.url), kind: 'openai', name: upstream.name, apiKey: upstream.apiKey, capabilities: upstream.capabilities }
}

/**
 * Ollama's version, or null when the host answers /api/version with an error: older builds
 * and emulators lack it, and any answer proves the host reachable.
 */
export async function versionOf(host: Extract<Host, { kind: 'ollama' }>): Promise<string | null> {
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
