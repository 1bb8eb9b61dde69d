// Why the gateway gave up on an upstream request: its client went away, or it was silent too long.
export class Aborted extends Error {
  constructor(readonly why: 'client' | 'timeout') {
    super(why === 'client' ? 'The client closed the request' : 'The upstream timed out')
  }
}
