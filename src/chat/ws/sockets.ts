// Chat over a WebSocket (/v1/chat/ws): one socket carries many chat requests at once. Each chat
// message is run as a request to POST /v1/chat/completions through the whole app — the same
// guard, rate limit, concurrency cap, threat checks, response cache, request log (its row says
// /v1/chat/ws) and whatever else that route does per request — and its SSE stream is read back
// into `chunk` messages. Cancelling a request aborts that request's signal, which aborts its
// upstream at once, as a client leaving an SSE stream does.
//
// The socket itself is authenticated once, from `Sec-WebSocket-Protocol` (`bearer.<token>`) or a
// first `auth` message, and re-checked every RECHECK_MS: a deactivated user, a revoked key or
// session closes it (1008). A client that stops reading is closed once its unsent output passes
// a bound, its requests cancelled. At shutdown the server waits for its requests like any other
// (`inFlight`), then closes every socket with 1001.
import type { Server, ServerWebSocket, WebSocketHandler } from 'bun'
import { accessTokenVerifier, principalOfToken } from '../../auth/guard'
import { principalForApiKey, principalForSession, type Principal } from '../../auth/principal'
import { addressKey, clientAddress, keepAddress, rememberPeer } from '../../http/client-address'
import { shuttingDown } from '../../draining'
import { errorResponse, HttpError } from '../../http/errors'
import type { Runtime } from '../../runtime'
import { factsOf, tokenCount } from '../../telemetry/facts'
import { WEBSOCKET_PATH } from '../../telemetry'
import { threatMonitorOf } from '../../threats'
import { chunkMessage, doneMessage, errorMessage, errorObject, Malformed, parseClientMessage, type ClientMessage, type ErrorObject, type RequestId } from './protocol'
import { usageFrom } from '../to-openai'
import { sseEvents } from './sse-events'

/** The subprotocol the server selects; a client offers it next to `bearer.<token>`. */
export const SUBPROTOCOL = 'ai-studio'
const BEARER_PREFIX = 'bearer.'

export type SocketOptions = {
  /** How long an unauthenticated socket may wait for its `auth` message. */
  authTimeoutMs: number
  /** Unsent bytes past which a client that stopped reading is disconnected. */
  maxBufferedBytes: number
  /** How often each socket's principal is checked again (deactivation, revocation). */
  recheckMs: number
  /** Idle seconds before the server pings a socket; one that answers nothing for as long again is closed. */
  idleTimeoutSeconds: number
}

export const defaultSocketOptions: SocketOptions = { authTimeoutMs: 5_000, maxBufferedBytes: 1024 * 1024, recheckMs: 500, idleTimeoutSeconds: 60 }

/** Sockets one address may hold open while they wait for an `auth` message; more are refused (429). */
const MAX_PENDING_PER_ADDRESS = 16

/** Close codes: 1008 policy (auth, a client not reading), 1001 going away (shutdown), 1011 the server's failure. */
const POLICY = 1008
const GOING_AWAY = 1001
const SERVER_ERROR = 1011

/** A close frame's reason holds at most 123 bytes. */
function closeReason(reason: string): string {
  const bytes = Buffer.from(reason)
  return bytes.length <= 123 ? reason : new TextDecoder().decode(bytes.subarray(0, 120)).replace(/\uFFFD+$/, '') + '...'
}

type Chat = (request: Request) => Response | Promise<Response>

class ChatSocket {
  token?: string
  principal?: Principal
  /** Settles once the socket is authenticated (or closed): messages wait for it, in order. */
  ready: Promise<void>
  private becomeReady!: () => void
  readonly requests = new Map<RequestId, AbortController>()
  authTimer?: Timer
  /** An `auth` message has come: messages after it wait for its verdict. */
  authSent = false
  closed = false

  constructor(
    readonly upgrade: Request,
    readonly offeredToken: string | undefined,
    /** Called once when the socket stops waiting for credentials (authenticated or closed). */
    private readonly notPending: () => void,
  ) {
    this.ready = new Promise((resolve) => (this.becomeReady = resolve))
  }

  authenticated(token: string, principal: Principal) {
    this.token = token
    this.principal = principal
    clearTimeout(this.authTimer)
    this.notPending()
    this.becomeReady()
  }

  /** Aborts every request still running (their upstreams with them) and lets waiting messages go. */
  end() {
    this.closed = true
    this.notPending()
    clearTimeout(this.authTimer)
    for (const controller of this.requests.values()) controller.abort()
    this.requests.clear()
    this.becomeReady()
  }
}

type Socket = ServerWebSocket<ChatSocket>

/** The token offered as a subprotocol (`bearer.<token>`), and whether `ai-studio` was offered. */
function offeredProtocols(request: Request): { token?: string; ours: boolean } {
  const offered = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((value) => value.trim())
  const bearer = offered.find((value) => value.toLowerCase().startsWith(BEARER_PREFIX))
  return { token: bearer?.slice(BEARER_PREFIX.length) || undefined, ours: offered.includes(SUBPROTOCOL) }
}

/** The request's usage, as the completion's own (../to-openai.ts). */
const usageOf = (request: Request) => {
  const facts = factsOf(request)
  return usageFrom(tokenCount(facts.promptTokens), tokenCount(facts.completionTokens))
}

/** The request headers a chat over the socket carries on from the upgrade (client address, agent). */
const CARRIED_HEADERS = ['user-agent', 'x-forwarded-for', 'x-real-ip', 'origin', 'x-conversation-id']

/**
 * The chat sockets of one server: `upgrade` takes a request for /v1/chat/ws, `websocket` is
 * Bun.serve's handler, and `chat` is the app's fetch that runs each request.
 */
export function chatSockets(rt: Runtime, chat: Chat, options: Partial<SocketOptions> = {}) {
  const { authTimeoutMs, maxBufferedBytes, recheckMs, idleTimeoutSeconds } = { ...defaultSocketOptions, ...options }
  const verify = accessTokenVerifier(rt)
  const sockets = new Set<Socket>()
  /** Sockets waiting for their credentials, by client address. */
  const pending = new Map<string, number>()
  let server: Server<unknown> | undefined

  const suspect = (socket: Socket) => (detail: string) => {
    const address = clientAddress(socket.data.upgrade, server, rt.config.trustProxy)
    threatMonitorOf(rt).observe({ type: 'invalid_token', key: address ? addressKey(address) : 'unknown', address, detail })
  }

  const close = (socket: Socket, code: number, reason: string) => {
    if (socket.data.closed) return
    socket.data.end()
    socket.close(code, closeReason(reason))
  }

  /** Sends, and disconnects a client whose unread output has grown past the bound. */
  const send = (socket: Socket, text: string) => {
    if (socket.data.closed) return
    socket.send(text)
    if (socket.getBufferedAmount() > maxBufferedBytes) close(socket, POLICY, 'The client is not reading its messages')
  }

  async function authenticate(socket: Socket, token: string) {
    try {
      socket.data.authenticated(token, await principalOfToken(rt, token, verify, suspect(socket)))
    } catch (error) {
      // Bad credentials are the client's (1008); the store unreachable is the server's (1011).
      if (error instanceof HttpError && error.status < 500) close(socket, POLICY, error.message)
      else close(socket, SERVER_ERROR, 'The credentials could not be checked; try again')
    }
  }

  /** Whether the socket's principal still holds: its user active, its key or session not revoked. */
  async function stillValid({ principal, token }: ChatSocket) {
    if (!principal) return true
    if (principal.apiKeyId) return (await principalForApiKey(rt, token!)) !== undefined
    return (await principalForSession(rt, principal.userId, principal.sessionId!)) !== undefined
  }

  const recheck = setInterval(() => {
    for (const socket of sockets) {
      const state = socket.data
      if (!state.principal || state.closed) continue
      stillValid(state)
        .then((valid) => {
          if (!valid) close(socket, POLICY, 'The credentials of this socket are no longer valid (user deactivated, or key or session revoked)')
        })
        .catch(() => {}) // the database unreachable for a moment: checked again at the next round
    }
  }, recheckMs)
  recheck.unref()
  rt.onClose(() => clearInterval(recheck))

  /** Runs one chat request through the app's /v1/chat/completions and relays its stream. */
  async function runChat(socket: Socket, id: RequestId, body: Record<string, unknown>) {
    const state = socket.data
    const controller = new AbortController()
    state.requests.set(id, controller)
    const upgrade = state.upgrade
    const headers = new Headers({ 'content-type': 'application/json', authorization: `Bearer ${state.token}` })
    for (const name of CARRIED_HEADERS) {
      const value = upgrade.headers.get(name)
      if (value !== null) headers.set(name, value)
    }
    const text = JSON.stringify({ ...body, stream: true })
    headers.set('content-length', String(Buffer.byteLength(text)))
    const request = keepAddress(
      new Request(new URL('/v1/chat/completions', upgrade.url), { method: 'POST', headers, body: text, signal: controller.signal }),
      upgrade,
      null,
    )
    factsOf(request).transport = 'websocket'
    const cancelled = () => send(socket, errorMessage(errorObject('The request was cancelled', null, 'request_cancelled'), id))
    try {
      const response = await chat(request)
      if (controller.signal.aborted) return cancelled()
      if (!response.ok || !response.body) {
        const answer = (await response.json().catch(() => undefined)) as { error?: ErrorObject } | undefined
        return send(socket, errorMessage(answer?.error ?? errorObject(`The request failed with status ${response.status}`, null, 'request_failed', 'api_error'), id))
      }
      let failed = false
      let over = false
      for await (const events of sseEvents(response.body)) {
        // The messages of one read leave in one write (corked), as the SSE events do.
        socket.cork(() => {
          for (const event of events) {
            if (controller.signal.aborted || event.data === '[DONE]') return void (over = true)
            if (event.event === 'error') {
              failed = true
              send(socket, errorMessage((JSON.parse(event.data) as { error: ErrorObject }).error, id))
            } else send(socket, chunkMessage(id, event.data))
          }
        })
        if (over) break
      }
      if (controller.signal.aborted) return cancelled()
      if (!failed) send(socket, doneMessage(id, usageOf(request)))
    } catch {
      if (controller.signal.aborted) return cancelled()
      send(socket, errorMessage(errorObject('The request failed', null, 'request_failed', 'api_error'), id))
    } finally {
      if (state.requests.get(id) === controller) state.requests.delete(id)
    }
  }

  async function handle(socket: Socket, message: ClientMessage) {
    const state = socket.data
    if (message.type === 'auth') return authenticate(socket, message.token)
    if (message.type === 'cancel') {
      const controller = state.requests.get(message.id)
      if (!controller) return send(socket, errorMessage(errorObject('No request with this id is in progress', 'id', 'unknown_request'), message.id))
      // The upstream is aborted at once; the relay answers `request_cancelled` for it.
      return controller.abort()
    }
    if (state.requests.has(message.id)) return send(socket, errorMessage(errorObject('A request with this id is already in progress', 'id', 'duplicate_id'), message.id))
    await runChat(socket, message.id, message.request)
  }

  const websocket: WebSocketHandler<ChatSocket> = {
    // Idle sockets are pinged (and answered) so that proxies keep them open; one that answers
    // nothing is closed. Bun counts in steps of 4 s: 60 → ping after 60 s, close 60 s later.
    idleTimeout: idleTimeoutSeconds,
    sendPings: true,
    maxPayloadLength: rt.config.maxBodyBytes,
    open(socket) {
      sockets.add(socket)
      const state = socket.data
      if (state.offeredToken) return void authenticate(socket, state.offeredToken)
      state.authTimer = setTimeout(
        () => close(socket, POLICY, `No credentials: offer "bearer.<token>" as a subprotocol or send {"type":"auth","token":…} within ${authTimeoutMs} ms`),
        authTimeoutMs,
      )
    },
    async message(socket, data) {
      const state = socket.data
      let message: ClientMessage
      try {
        message = parseClientMessage(data as string | Buffer)
      } catch (error) {
        if (!(error instanceof Malformed)) throw error
        return send(socket, errorMessage(errorObject(error.message, error.param, 'invalid_message'), error.id))
      }
      if (message.type === 'auth') state.authSent = true
      else if (!state.principal && !state.authSent && !state.offeredToken)
        return close(socket, POLICY, 'The first message must be {"type":"auth","token":…}')
      if (message.type !== 'auth') await state.ready
      if (!state.closed) void handle(socket, message)
    },
    close(socket) {
      sockets.delete(socket)
      socket.data.end()
    },
  }

  return {
    path: WEBSOCKET_PATH,
    websocket,
    /**
     * Answers a request for /v1/chat/ws: upgraded (undefined), or a Response (not an upgrade, or
     * refused while the server drains).
     */
    upgrade(request: Request, to: Server<ChatSocket>): Response | undefined {
      server = to as unknown as Server<unknown>
      if (rt.draining) return errorResponse(WEBSOCKET_PATH, shuttingDown(), { connection: 'close' })
      rememberPeer(request, server)
      const { token, ours } = offeredProtocols(request)
      // Sockets left waiting for an `auth` message cost memory and a timer each: a few per
      // address. (One that offers a token is judged at once: a bad one closes it, as a threat.)
      const address = clientAddress(request, server, rt.config.trustProxy)
      const key = address ? addressKey(address) : 'unknown'
      const waiting = pending.get(key) ?? 0
      if (!token && waiting >= MAX_PENDING_PER_ADDRESS)
        return errorResponse(
          WEBSOCKET_PATH,
          new HttpError(429, `Too many sockets from this address are waiting for their credentials (at most ${MAX_PENDING_PER_ADDRESS})`, {
            code: 'too_many_pending_sockets',
            headers: { 'retry-after': String(Math.ceil(authTimeoutMs / 1000)) },
          }),
        )
      let counted = !token
      const notPending = () => {
        if (!counted) return
        counted = false
        const left = (pending.get(key) ?? 1) - 1
        if (left > 0) pending.set(key, left)
        else pending.delete(key)
      }
      if (counted) pending.set(key, waiting + 1)
      const upgraded = to.upgrade(request, {
        data: new ChatSocket(request, token, notPending),
        headers: ours ? { 'sec-websocket-protocol': SUBPROTOCOL } : undefined,
      })
      if (!upgraded) notPending()
      if (upgraded) return undefined
      return errorResponse(WEBSOCKET_PATH, new HttpError(426, 'Expected a WebSocket upgrade', { code: 'upgrade_required', headers: { upgrade: 'websocket' } }))
    },
    /** Whether a request is for the chat socket and asks to upgrade. */
    wants: (request: Request) => request.headers.get('upgrade')?.toLowerCase() === 'websocket' && new URL(request.url).pathname.replace(/\/+$/, '') === WEBSOCKET_PATH,
    /** Chat requests still running on any socket. */
    inFlight: () => {
      let count = 0
      for (const socket of sockets) count += socket.data.requests.size
      return count
    },
    /** Closes every socket (shutdown: 1001), aborting what still runs. */
    closeAll(code = GOING_AWAY, reason = 'The server is shutting down') {
      for (const socket of sockets) close(socket, code, reason)
    },
  }
}

export type ChatSockets = ReturnType<typeof chatSockets>
