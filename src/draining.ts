// After SIGTERM/SIGINT the server drains: requests in flight finish (up to SHUTDOWN_TIMEOUT_MS)
// while every new one, on a new connection or on a kept-alive one, is answered 503 with
// `Connection: close` through the normal app path, so it is logged and its client knows to go
// elsewhere. (Bun's server.stop(false) would instead close idle kept-alive connections at once
// and busy ones right after their response, so a request sent on one meets a bare reset.)
import { Elysia } from 'elysia'
import { HttpError } from './http/errors'
import type { Runtime } from './runtime'

/** About how long a restart takes; clients retry after it. */
const RETRY_AFTER_SECONDS = '5'

/** The answer to a request the shutdown refuses or cuts short. */
export const shuttingDown = () =>
  new HttpError(503, 'The server is shutting down; retry the request', {
    code: 'server_shutting_down',
    headers: { connection: 'close', 'retry-after': RETRY_AFTER_SECONDS },
  })

/** Registered after the plugins that give every response its request id and headers. */
export const draining = (rt: Runtime) =>
  new Elysia({ name: 'draining' }).onRequest(() => {
    if (rt.draining) throw shuttingDown()
  })
