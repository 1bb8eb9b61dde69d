// Names for the entries several replicas add to one Redis key (a request in a rate-limit log, a
// slot of a concurrency cap): they must never collide, across replicas and restarts, and are
// cheap to make on the hot path.
import { randomBytes } from 'node:crypto'

/** A maker of ids: a random prefix of its own (72 bits), then a counter. */
export function uniqueIds(): () => string {
  const maker = randomBytes(9).toString('base64url')
  let made = 0
  return () => `${maker}:${(++made).toString(36)}`
}
