// The threat monitor's memory in Redis (REDIS_URL), so that replicas count together: failures
// on one replica and another add up, a block made on one holds on every one, a threat is
// recorded once per quiet period whichever replica sees it. Each key's events are a sorted set
// (scored by Redis's own clock, so replicas' clocks need not agree), changed and counted by one
// script per call, and every key expires with its window.
//
// While Redis cannot be reached (../shared/fallback.ts): the answers that refuse a request — is
// this sign-in blocked? — follow REDIS_FAILURE (this replica's own counts, or 503). Counting an
// event and recording a threat never refuse anything: they go to this replica's memory.
import { randomBytes } from 'node:crypto'
import { sharedOrLocal } from '../shared/fallback'
import type { RedisLink, RedisSettings } from '../shared/redis'
import type { ThreatCounter } from './counter'

/** A place held for a sign-in is let go of after this long even if its replica died meanwhile. */
const HOLD_MS = 30_000

/** Now in ms by Redis's clock (TIME answers seconds and microseconds). */
const NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)"

/** Counts one event: KEYS[1] the key's events; ARGV window (ms), cap, a name for this event. Leaves `n`, the count after. */
const COUNT_ONE = `${NOW}
local window, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - window))
redis.call('ZADD', KEYS[1], now, ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
if n > cap then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - cap - 1); n = cap end
redis.call('PEXPIRE', KEYS[1], window)`

/** Returns the count after. */
const ADD = `${COUNT_ONE}
return n`

/**
 * As ADD, then judged: KEYS[2] the rank last recorded (expiring with the window); ARGV[4] the
 * floor rank, then [count, rank] pairs. Returns {count, rank to record or -1}.
 */
const ADD_AND_JUDGE = `${COUNT_ONE}
local rank = tonumber(ARGV[4])
for i = 5, #ARGV, 2 do
  if n >= tonumber(ARGV[i]) and tonumber(ARGV[i + 1]) > rank then rank = tonumber(ARGV[i + 1]) end
end
if rank < 0 or rank <= tonumber(redis.call('GET', KEYS[2]) or '-1') then return {n, -1} end
redis.call('SET', KEYS[2], rank, 'PX', window)
return {n, rank}`

/** KEYS[1]: the key's events. ARGV: window (ms). */
const COUNT = `${NOW}
return redis.call('ZCOUNT', KEYS[1], string.format('(%d', now - tonumber(ARGV[1])), '+inf')`

/**
 * KEYS: for each key, its events then its places held. ARGV: window (ms), limit, how long a place
 * is held at most (ms), a name for this place. Returns 1 when the places were taken, 0 when refused.
 */
const HOLD = `${NOW}
local window, limit, hold = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, #KEYS, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i + 1], '-inf', string.format('%d', now - hold))
  local n = redis.call('ZCOUNT', KEYS[i], string.format('(%d', now - window), '+inf') + redis.call('ZCARD', KEYS[i + 1])
  if n >= limit then return 0 end
end
for i = 2, #KEYS, 2 do
  redis.call('ZADD', KEYS[i], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[i], hold)
end
return 1`

/** KEYS: places held. ARGV[1]: the place's name. */
const RELEASE = `for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end return 0`

/** SCAN MATCH takes a glob: the prefix is matched as written. */
const literalGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&')

export function redisCounter(link: RedisLink, failure: RedisSettings['failure'], local: ThreatCounter): ThreatCounter {
  const events = (key: string) => link.key(`threats:events:${key}`)
  const held = (key: string) => link.key(`threats:held:${key}`)
  const recorded = (key: string) => link.key(`threats:recorded:${key}`)
  /** Names each event and place uniquely across replicas. */
  const replica = randomBytes(6).toString('base64url')
  let made = 0
  const name = () => `${replica}:${++made}`

  return {
    add: (key, windowMs, cap) =>
      sharedOrLocal(
        link,
        'local',
        async () => Number(await link.script(ADD, [events(key)], [windowMs, cap, name()])),
        () => local.add(key, windowMs, cap),
      ),
    count: (key, windowMs) =>
      sharedOrLocal(
        link,
        failure,
        async () => Number(await link.script(COUNT, [events(key)], [windowMs])),
        () => local.count(key, windowMs),
      ),
    hold: (keys, windowMs, limit) =>
      sharedOrLocal(
        link,
        failure,
        async () => {
          const place = name()
          const places = keys.map(held)
          const taken = await link.script(HOLD, keys.flatMap((key) => [events(key), held(key)]), [windowMs, limit, HOLD_MS, place])
          if (!Number(taken)) return undefined
          // Not let go of (Redis lost meanwhile): the place goes after HOLD_MS.
          return () => sharedOrLocal(link, 'local', async () => void (await link.script(RELEASE, places, [place])), () => {})
        },
        () => local.hold(keys, windowMs, limit),
      ),
    addAndJudge: (key, windowMs, levels, floor) =>
      sharedOrLocal(
        link,
        'local',
        async () => {
          const cap = levels.at(-1)![0]
          const judged = await link.script(ADD_AND_JUDGE, [events(key), recorded(key)], [windowMs, cap, name(), floor, ...levels.flat()])
          const [count, rank] = judged as [number, number]
          return rank < 0 ? { count: Number(count) } : { count: Number(count), record: Number(rank) }
        },
        () => local.addAndJudge(key, windowMs, levels, floor),
      ),
    // Counts this replica made while Redis was lost go too: they would count again at the next loss.
    async forget(keys) {
      await local.forget(keys)
      await sharedOrLocal(link, 'local', async () => void (await link.send('DEL', keys.map(events))), () => {})
    },
    // Rare (an operator's unblock): a SCAN of the prefix is fine. It must reach Redis — the
    // unblock is tried again until it does — so it fails rather than stop at this replica.
    async forgetWhere(prefix, matches) {
      await local.forgetWhere(prefix, matches)
      await sharedOrLocal(
        link,
        'closed',
        async () => {
          const start = events(prefix)
          let cursor = '0'
          do {
            const [next, found] = (await link.send('SCAN', [cursor, 'MATCH', `${literalGlob(start)}*`, 'COUNT', '1000'])) as [string, string[]]
            const gone = found.filter((key) => matches(key.slice(start.length)))
            if (gone.length) await link.send('DEL', gone)
            cursor = next
          } while (cursor !== '0')
        },
        () => {},
      )
    },
    close: () => local.close(),
  }
}
