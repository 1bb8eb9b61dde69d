// The tokens an API key's requests used over a sliding window, for its tokens-per-minute limit
// (./keys.ts): a weighted log per key (each ended request adds its tokens), kept in this
// process's memory (one replica) or in Redis (every replica sharing REDIS_URL counts together).
// A request is checked when it arrives and its tokens are added when it ends: they are known only
// then, so requests that arrive together all pass while the key is under its limit, and the
// next ones wait until enough tokens have left the window.
import { MINUTE } from '../http/dates'
import { sharedOrLocal } from '../shared/fallback'
import type { RedisLink, RedisSettings } from '../shared/redis'
import { uniqueIds } from '../shared/unique-ids'

export type TokenVerdict = {
  /** Whether the key has used fewer than its limit in the window. */
  allowed: boolean
  limit: number
  used: number
  /** When refused: when enough tokens will have left the window for the key to be under its limit (ms since the epoch). */
  resetAt: number
}

export interface TokenMeter {
  /** Whether `key` used fewer than `limit` tokens in the last `windowMs`. */
  check(key: string, limit: number, windowMs: number): Promise<TokenVerdict>
  /** Adds the tokens of one request of `key` that has ended. */
  record(key: string, tokens: number, windowMs: number): Promise<void>
  close(): void
}

type Log = { entries: { at: number; tokens: number }[]; head: number; used: number }

/** The weighted log per key in memory. */
export function memoryTokenMeter(now: () => number = Date.now): TokenMeter {
  const logs = new Map<string, Log>()
  const live = (key: string, windowMs: number, t: number) => {
    const log = logs.get(key)
    if (!log) return undefined
    while (log.head < log.entries.length && log.entries[log.head]!.at + windowMs <= t) log.used -= log.entries[log.head++]!.tokens
    if (log.head === log.entries.length) return void logs.delete(key)
    if (log.head > 64 && log.head * 2 > log.entries.length) {
      log.entries.splice(0, log.head)
      log.head = 0
    }
    return log
  }
  const sweep = setInterval(() => {
    const t = now()
    for (const key of logs.keys()) live(key, MINUTE, t)
  }, MINUTE)
  sweep.unref?.()

  return {
    async check(key, limit, windowMs) {
      const t = now()
      const log = live(key, windowMs, t)
      const used = log?.used ?? 0
      if (used < limit) return { allowed: true, limit, used, resetAt: t }
      // The oldest entries leave first: the key is under its limit once those that take it there have left.
      let left = used
      let i = log!.head
      while (left >= limit) left -= log!.entries[i++]!.tokens
      return { allowed: false, limit, used, resetAt: log!.entries[i - 1]!.at + windowMs }
    },
    async record(key, tokens, windowMs) {
      const t = now()
      const log = live(key, windowMs, t) ?? { entries: [], head: 0, used: 0 }
      logs.set(key, log)
      log.entries.push({ at: t, tokens })
      log.used += tokens
    },
    close: () => clearInterval(sweep),
  }
}

/** Redis's clock (every replica reads the one clock), in ms. */
const NOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`

/** An entry's tokens: its member is `<unique id>:<tokens>`. */
const TOKENS_OF = `local function tokens(member) return tonumber(string.match(member, ':(%d+)$')) end`

/**
 * KEYS[1] the key's log (a sorted set: `<id>:<tokens>` scored by when the request ended),
 * KEYS[2] the sum of its tokens; ARGV limit, window (ms). Drops the entries that have left the
 * window (taking their tokens off the sum) and answers { allowed (1|0), tokens used, ms until
 * the key is under its limit (when refused) }.
 */
const CHECK = `${NOW}${TOKENS_OF}
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if #gone > 0 then
  for _, member in ipairs(gone) do used = used - tokens(member) end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) == 0 then
    used = 0
    redis.call('DEL', KEYS[2])
  else
    redis.call('SET', KEYS[2], used, 'KEEPTTL')
  end
end
if used < limit then return { 1, used, 0 } end
local left = used
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #entries, 2 do
  left = left - tokens(entries[i])
  if left < limit then return { 0, used, tonumber(entries[i + 1]) + window - now } end
end
return { 0, used, window }
`

/** KEYS as CHECK's; ARGV tokens, window (ms), a member id no other entry uses. Both keys expire with the window. */
const RECORD = `${NOW}
redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. ARGV[1])
redis.call('INCRBY', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
`

/**
 * The log on Redis, checked and added to by scripts Redis runs alone, on Redis's clock (as the
 * rate limiter's, ./limiter.ts). While Redis cannot be reached, REDIS_FAILURE decides
 * (shared/fallback.ts): `local` counts in `local`, this replica's memory, until Redis is back;
 * `closed` refuses with 503 (and the tokens of requests ending meanwhile are not counted).
 */
export function redisTokenMeter(link: RedisLink, failure: RedisSettings['failure'], local: TokenMeter = memoryTokenMeter()): TokenMeter {
  const member = uniqueIds()
  // One hash tag for both keys of a log: a Redis Cluster keeps them on one node, as a script needs.
  const keys = (key: string) => [link.key(`tokens:{${key}}:log`), link.key(`tokens:{${key}}:used`)]
  return {
    check: (key, limit, windowMs) =>
      sharedOrLocal(
        link,
        failure,
        async () => {
          const [allowed, used, resetInMs] = (await link.script(CHECK, keys(key), [limit, windowMs])) as number[]
          return { allowed: allowed === 1, limit, used: used!, resetAt: Date.now() + resetInMs! }
        },
        () => local.check(key, limit, windowMs),
      ),
    record: (key, tokens, windowMs) =>
      sharedOrLocal(
        link,
        failure,
        async () => void (await link.script(RECORD, keys(key), [tokens, windowMs, member()])),
        () => local.record(key, tokens, windowMs),
      ),
    close: () => local.close(),
  }
}
