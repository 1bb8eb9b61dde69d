// Why the gateway gave up on an upstream request: its client went away, it was silent too long,
// it ran past MAX_REQUEST_SECONDS, or the server's shutdown deadline passed.
export type AbortReason = 'client' | 'timeout' | 'deadline' | 'shutdown'

const messages: Record<AbortReason, string> = {
  client: 'The client closed the request',
  timeout: 'The upstream timed out',
  deadline: 'The request ran past its time limit',
  shutdown: 'The server is shutting down',
}

export class Aborted extends Error {
  constructor(readonly why: AbortReason) {
    super(messages[why])
  }
}
