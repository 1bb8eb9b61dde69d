// What a piece of shared state does when Redis cannot be reached (REDIS_FAILURE): `local` keeps
// serving with this replica's own state (limits then count per replica) until Redis is back;
// `closed` answers 503 instead. Never a 500. Redis marked down is not asked again until its
// probe finds it back (./redis.ts), so a lost Redis costs a request nothing.
import { HttpError } from '../http/errors'
import { unreachable, type RedisLink } from './redis'

export class SharedStateUnavailable extends HttpError {
  constructor() {
    super(503, 'Shared state (Redis) cannot be reached; try again in a moment', {
      code: 'shared_state_unavailable',
      headers: { 'retry-after': '1' },
    })
  }
}

/** Runs `remote` on Redis while it answers; otherwise `local`, or a 503 under REDIS_FAILURE=closed. */
export async function sharedOrLocal<R>(
  link: RedisLink,
  failure: 'local' | 'closed',
  remote: () => Promise<R>,
  local: () => R | Promise<R>,
): Promise<R> {
  if (link.up)
    try {
      return await remote()
    } catch (error) {
      if (!unreachable(error)) throw error
    }
  if (failure === 'closed') throw new SharedStateUnavailable()
  return local()
}
