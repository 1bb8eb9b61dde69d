// Redis for the tests: the machine's (REDIS_TEST_URL, default redis://127.0.0.1:6379), each user
// of it under a prefix of its own (test:<pid>:<n>:), whose keys are deleted when the test process
// ends (./preload.ts). To lose Redis mid-run, put ./tcp-proxy.ts in front of it.
import { RedisClient } from 'bun'

export const redisTestUrl = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379'

const prefixRoot = `test:${process.pid}:`
let made = 0

/** A REDIS_PREFIX of its own, for one runtime or one group of replicas. */
export const testPrefix = () => `${prefixRoot}${++made}:`

/** Deletes every key under `prefix` in the Redis at `url` (SCAN, never KEYS). */
export async function deleteKeysUnder(url: string, prefix: string) {
  const client = new RedisClient(url)
  try {
    let cursor = '0'
    do {
      const [next, keys] = (await client.send('SCAN', [cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [string, string[]]
      if (keys.length) await client.send('DEL', keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    client.close()
  }
}

/** Deletes every key this process made (every prefix under test:<pid>:). */
export const deleteTestKeys = () => deleteKeysUnder(redisTestUrl, prefixRoot)

/**
 * Whether Redis answers, for test files that need it. Under CI=true an unreachable Redis throws
 * (the run fails); elsewhere it is said out loud.
 */
export async function redisReachable(what: string): Promise<boolean> {
  const client = new RedisClient(redisTestUrl, { autoReconnect: false, connectionTimeout: 2000 })
  try {
    await client.send('PING', [])
    return true
  } catch (error) {
    const reason = `Redis at ${redisTestUrl} is unreachable (${(error as Error).message})`
    if (process.env.CI === 'true') throw new Error(`${reason}: ${what} cannot run`)
    console.warn(`\n*** ${reason}: ${what} SKIPPED (with CI=true this fails the run) ***\n`)
    return false
  } finally {
    client.close()
  }
}
