// The Redis link under the shared state: commands and scripts under REDIS_PREFIX, pub/sub between
// two links, and Redis lost and found again (a proxy in front of it that the test closes).
import { afterAll, describe, expect, test } from 'bun:test'
import { loadConfig } from '../src/config'
import { openRedis, unreachable } from '../src/shared/redis'
import { redisReachable, redisTestUrl, testPrefix } from './support/redis'
import { tcpProxy } from './support/tcp-proxy'

const reachable = await redisReachable('test/redis-link.test.ts')

test('errors that mean Redis cannot serve now (lost, out of memory, read-only after a failover, loading) count as unreachable; errors in what was asked do not', () => {
  const serverError = (message: string) => Object.assign(new Error(message), { code: 'ERR_REDIS_SERVER_ERROR' })
  expect(unreachable(Object.assign(new Error('Connection closed'), { code: 'ERR_REDIS_CONNECTION_CLOSED' }))).toBe(true)
  for (const message of ['OOM command not allowed when used memory > maxmemory', "READONLY You can't write against a read only replica.", 'LOADING Redis is loading the dataset in memory'])
    expect(unreachable(serverError(message))).toBe(true)
  expect(unreachable(serverError('ERR wrong number of arguments'))).toBe(false)
  expect(unreachable(new Error('not from Redis'))).toBe(false)
})

describe.if(reachable)('Redis link', () => {
  const prefix = testPrefix()
  const link = openRedis(loadConfig({ REDIS_URL: redisTestUrl, REDIS_PREFIX: prefix }).redis!)
  afterAll(() => link.close())

  test('keys live under the prefix, and scripts run atomically', async () => {
    expect(link.key('x')).toBe(`${prefix}x`)
    const incr = "local n = redis.call('INCR', KEYS[1]); redis.call('PEXPIRE', KEYS[1], ARGV[1]); return n"
    const results = await Promise.all(Array.from({ length: 20 }, () => link.script(incr, [link.key('n')], [5000])))
    expect(results.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })

  test('a message published by one link reaches another', async () => {
    const other = openRedis(loadConfig({ REDIS_URL: redisTestUrl, REDIS_PREFIX: prefix }).redis!)
    const received: string[] = []
    await other.subscribe('news', (message) => received.push(message))
    await link.publish('news', 'hello')
    for (let i = 0; i < 50 && !received.length; i++) await Bun.sleep(10)
    expect(received).toEqual(['hello'])
    other.close()
  })

  test('Redis lost: marked down at once, said once; found again within a couple of seconds', async () => {
    const proxy = await tcpProxy(redisTestUrl)
    const flaky = openRedis(loadConfig({ REDIS_URL: proxy.url, REDIS_PREFIX: prefix }).redis!)
    const changes: boolean[] = []
    flaky.onChange((up) => changes.push(up))
    expect(await flaky.send('PING', [])).toBe('PONG')
    proxy.stop()
    await expect(flaky.send('PING', [])).rejects.toThrow()
    expect(flaky.up).toBe(false)
    await expect(flaky.send('PING', [])).rejects.toThrow()
    expect(changes).toEqual([false])
    proxy.start()
    for (let i = 0; i < 40 && !flaky.up; i++) await Bun.sleep(100)
    expect(flaky.up).toBe(true)
    expect(changes).toEqual([false, true])
    expect(await flaky.send('PING', [])).toBe('PONG')
    flaky.close()
    proxy.stop()
  })
})
