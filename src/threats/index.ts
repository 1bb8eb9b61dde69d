// The threat monitor of each runtime, which the guard, the limits, sign-in and the chat's
// screening feed: made when first needed, stopped when the runtime closes. Its counts are in
// this replica's memory, or with REDIS_URL in Redis, shared by every replica (this memory
// standing in while Redis is lost, as REDIS_FAILURE says).
import { perRuntime } from '../runtime'
import { redisOf } from '../shared/redis'
import { memoryCounter } from './counter'
import { threatMonitor } from './monitor'
import { redisCounter } from './redis-counter'

export const threatMonitorOf = perRuntime((rt) => {
  const link = redisOf(rt)
  const local = memoryCounter()
  return threatMonitor(rt.store.threats, link ? redisCounter(link, rt.config.redis!.failure, local) : local)
})
