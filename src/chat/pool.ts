// The upstream hosts: Ollama's (OLLAMA_BASE_URL) and servers that speak OpenAI's API
// (OPENAI_UPSTREAMS). A background check keeps each host's reachability, latency and models
// fresh; a request that fails to connect marks its host down at once. A request (chat, generate,
// embed) goes to a reachable host that has the model and can take that kind of request, the
// least busy first; a host that fails before the first byte is replaced by the next candidate.
import type { OpenAiUpstream } from '../config'
import { HttpError } from '../http/errors'
import { describeFailure, failureBeforeFirstByte, modelNotFound, stoppedByGateway } from './failures'
import { canonicalModel, listedModels, newHost, newOpenAiHost, versionOf, type Host } from './host'
import { openAiModels } from './openai-upstream'
import { Aborted } from './aborted'
import { callOnce, openReply, type Call, type Send, type StreamedMessage, type UpstreamReply } from './upstream-reply'
import { Watchdog } from './watchdog'

export type PoolOptions = { urls: string[]; openai?: OpenAiUpstream[]; timeoutMs: number; maxRequestMs: number; checkIntervalMs: number }

/**
 * Which hosts a request can go to: Ollama's always; a server speaking OpenAI's API when the request
 * says how to ask it, and its configured capabilities include what the request `needs`.
 */
type Kinds = { openai?: unknown; needs?: string }

/** Hosts are re-checked on demand (an unknown model, /v1/health) at most this often. */
const MIN_REFRESH_MS = 1000

export type Pool = ReturnType<typeof createPool>

export function createPool({ urls, openai = [], timeoutMs, maxRequestMs, checkIntervalMs }: PoolOptions) {
  const checkTimeoutMs = Math.min(timeoutMs, 5000)
  const hosts = [...urls.map((url) => newHost(url, checkTimeoutMs)), ...openai.map(newOpenAiHost)]
  const watchdog = new Watchdog(timeoutMs, maxRequestMs)
  let round: Promise<void> | undefined
  let lastRoundAt = 0

  /** Checks one host; callers while a check is under way share it. */
  function check(host: Host): Promise<void> {
    host.checking ??= probe(host).finally(() => (host.checking = undefined))
    return host.checking
  }

  async function probe(host: Host) {
    const started = performance.now()
    try {
      let models: unknown
      if (host.kind === 'openai') {
        models = await openAiModels(host, checkTimeoutMs)
        host.latencyMs = Math.round((performance.now() - started) * 100) / 100
        host.version = null
      } else {
        host.version = await versionOf(host)
        host.latencyMs = Math.round((performance.now() - started) * 100) / 100
        models = (await host.client.list()).models
      }
      host.models = new Map(listedModels(models).map((model) => [canonicalModel(model.name), model]))
      // Ollama's API answers while a stuck model runner does not: a host that went silent in a chat waits its turn.
      host.reachable = performance.now() >= host.quietUntil
      host.error = host.reachable ? null : 'went silent in a chat for longer than the upstream timeout'
    } catch (error) {
      markDown(host, error)
    }
    host.checkedAt = Date.now()
  }

  function markDown(host: Host, error: unknown) {
    host.reachable = false
    host.latencyMs = null
    host.version = null
    host.error = describeFailure(error).message
  }

  /** A host marked down that has just answered a chat is up: at once for routing and /v1/models, then checked afresh. */
  function revive(host: Host) {
    host.reachable = true
    host.error = null
    host.quietUntil = 0
    void check(host)
  }

  /** Checks every host; concurrent callers share one round. */
  function checkAll(): Promise<void> {
    round ??= Promise.all(hosts.map(check)).then(() => {
      lastRoundAt = performance.now()
      round = undefined
    })
    return round
  }

  /** Checks every host unless a round ended within MIN_REFRESH_MS: callers cannot make the pool hammer its hosts. */
  async function freshen(): Promise<void> {
    await ready
    if (performance.now() - lastRoundAt > MIN_REFRESH_MS) await checkAll()
  }

  const ready = checkAll()
  const timer = setInterval(checkAll, checkIntervalMs)
  timer.unref()

  /**
   * Hosts worth trying for a model, best first: reachable hosts that list it (least busy,
   * then fastest), then hosts that are down or unchecked but may have it. A reachable host
   * that does not list the model is never tried.
   */
  function candidates(model: string, kinds: Kinds): Host[] {
    const name = canonicalModel(model)
    const able = hosts.filter((host) => host.kind === 'ollama' || (kinds.openai !== undefined && (!kinds.needs || host.capabilities.includes(kinds.needs))))
    const serving = able
      .filter((host) => host.reachable && host.models.has(name))
      .sort((a, b) => a.inFlight - b.inFlight || (a.latencyMs ?? 0) - (b.latencyMs ?? 0))
    const maybe = able.filter((host) => !host.reachable && (host.models.size === 0 || host.models.has(name)))
    return [...serving, ...maybe]
  }

  /**
   * Waits for the first check, and re-checks the hosts (at most once a second) when none may
   * have the model. None has it: 404 when every host answered, else 503 (a host that is down
   * may have it).
   */
  async function ensureCandidates(model: string, kinds: Kinds): Promise<void> {
    await ready
    if (candidates(model, kinds).length > 0) return
    await freshen()
    if (candidates(model, kinds).length > 0) return
    const unable = hosts.find((host) => host.kind === 'openai' && host.reachable && host.models.has(canonicalModel(model)))
    if (unable?.kind === 'openai')
      throw new HttpError(
        400,
        kinds.openai === undefined
          ? `The model named in the request is served by ${unable.name}, a server of OPENAI_UPSTREAMS, which is not asked for this API`
          : `The model named in the request cannot take this request (its capabilities: ${unable.capabilities.join(', ')})`,
        { param: 'model', code: 'model_not_supported' },
      )
    const down = hosts.filter((host) => !host.reachable).map((host) => host.url)
    if (down.length === 0) throw modelNotFound()
    throw new HttpError(503, `No reachable host has the model named in the request, and these are unreachable: ${down.join(', ')}`, {
      code: 'upstream_unreachable',
    })
  }

  /**
   * Runs `attempt` on the best candidate that answers, trying the next one when a host fails
   * before its first byte, within one UPSTREAM_TIMEOUT_MS for them all (504 when it is spent).
   * Each attempt chooses afresh, with no await between choosing and `attempt` counting the
   * request on its host, so concurrent requests spread over the hosts. (MAX_REQUEST_SECONDS counts
   * from the `startedAt` that `stream` and `call` are given: when the client's request arrived.)
   */
  async function onSomeHost<T>(
    model: string,
    kinds: Kinds,
    signal: AbortSignal,
    attempt: (host: Host, waitingSince: number) => Promise<T>,
  ): Promise<T> {
    await ensureCandidates(model, kinds)
    const waitingSince = performance.now()
    const tried = new Set<Host>()
    const unreachable: string[] = []
    let last: HttpError | undefined
    for (let host = nextCandidate(); host; host = nextCandidate()) {
      tried.add(host)
      const attemptStart = performance.now()
      try {
        const answered = await attempt(host, waitingSince)
        if (!host.reachable) revive(host)
        return answered
      } catch (error) {
        // The client left, or the gateway stopped the request: no host is to blame, none is tried next.
        if (error instanceof Aborted && error.why !== 'timeout') throw error.why === 'client' ? error : stoppedByGateway(error.why)
        last = failureBeforeFirstByte(host, error)
        switch (last.options.code) {
          case 'model_not_found': // the host's list was stale
            host.models.delete(canonicalModel(model))
            break
          case 'upstream_unreachable':
            // Checked again at once: a connection this request alone broke should not keep the host out.
            markDown(host, error)
            void check(host)
            unreachable.push(host.url)
            break
          case 'upstream_timeout':
            // Given (nearly) the whole timeout and silent all of it, the host is stuck: later requests go
            // elsewhere for a while. One given only what earlier hosts left is not blamed.
            if (attemptStart - waitingSince <= timeoutMs * 0.1) {
              markDown(host, error)
              host.quietUntil = performance.now() + timeoutMs
            }
            if (tried.size === 1) throw last
            throw new HttpError(504, `No Ollama host sent anything within the upstream timeout (tried ${[...tried].map((h) => h.url).join(', ')})`, {
              code: 'upstream_timeout',
            })
          case 'upstream_rejected': // another host would refuse it too
            throw last
        }
      }
    }
    if (last?.options.code === 'upstream_unreachable' && unreachable.length > 1)
      throw new HttpError(503, `No host could be reached: ${unreachable.join(', ')}`, { code: 'upstream_unreachable' })
    throw last ?? modelNotFound()

    function nextCandidate(): Host | undefined {
      return candidates(model, kinds).find((host) => !tried.has(host))
    }
  }

  return {
    hosts,
    checkAll,
    freshen,
    /** A streamed request for `model`, open on some host that can take it, with its first messages read. */
    stream: <M extends StreamedMessage>(model: string, send: Send, signal: AbortSignal, startedAt: number): Promise<UpstreamReply<M>> =>
      onSomeHost(model, send, signal, (host, waitingSince) => openReply<M>(host, send, signal, watchdog, waitingSince, startedAt)),
    /** A request for `model` answered with one JSON object (embed), from some host that can take it. */
    call: <T>(model: string, call: Call<T>, signal: AbortSignal, startedAt: number): Promise<T> =>
      onSomeHost(model, call, signal, (host, waitingSince) => callOnce(host, call, signal, watchdog, waitingSince, startedAt)),
    /** Each known model with the reachable hosts that have it. */
    async models(): Promise<Map<string, Host[]>> {
      await ready
      const byName = new Map<string, Host[]>()
      for (const host of hosts)
        if (host.reachable) for (const name of host.models.keys()) byName.set(name, [...(byName.get(name) ?? []), host])
      return byName
    },
    /** Whether a reachable host lists the model (a name no host lists is whatever a client typed). */
    lists: (model: string) => hosts.some((host) => host.reachable && host.models.has(canonicalModel(model))),
    /** The shutdown deadline passed: every chat still open ends now (a stream with an error event). */
    cutShort: () => watchdog.abortAll('shutdown'),
    stop() {
      clearInterval(timer)
      watchdog.stop()
    },
  }
}

