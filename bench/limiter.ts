// `bun bench/limiter.ts`: what one limiter check costs a request on Redis against in memory (the
// issue's budget: the Redis limiter adds at most 0.3 ms p50). One check after another, as a
// request makes them: a rate-limit hit (1,000 users at 60 a minute, so each log holds what a busy
// user's does), and a concurrency slot taken and given back. Redis: BENCH_REDIS_URL, default this
// machine's; its keys go under a prefix of their own, deleted afterwards.
import { memoryConcurrencyLimiter, redisConcurrencyLimiter, type ConcurrencyLimiter } from '../src/concurrency/limiter'
import { loadConfig } from '../src/config'
import { memoryLimiter, redisLimiter, type RateLimiter } from '../src/ratelimit/limiter'
import { openRedis } from '../src/shared/redis'
import { deleteKeysUnder } from '../test/support/redis'

const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `bench:${process.pid}:`
const CHECKS = Number(process.env.BENCH_CHECKS ?? 20_000)
const USERS = 1_000
const LIMIT = 60
const MINUTE = 60_000

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

async function time(check: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 2_000; i++) await check(i) // warm-up: JIT, the script loaded, the connection open
  const took: number[] = []
  for (let i = 0; i < CHECKS; i++) {
    const start = performance.now()
    await check(i)
    took.push(performance.now() - start)
  }
  took.sort((a, b) => a - b)
  return { p50: quantile(took, 0.5), p99: quantile(took, 0.99) }
}

const hit = (limiter: RateLimiter) => (i: number) => limiter.hit(`chat|user:${i % USERS}`, LIMIT, MINUTE)
const slot = (limiter: ConcurrencyLimiter) => async (i: number) => (await limiter.acquire(`user:${i % USERS}`, 8)).release()

const link = openRedis(loadConfig({ REDIS_URL: redisUrl, REDIS_PREFIX: prefix }).redis!)
const rows: [string, { p50: number; p99: number }, { p50: number; p99: number }][] = []
try {
  // Interleaved, twice each, so that a noisy moment does not land on one side only.
  const results = { hit: [] as { p50: number; p99: number }[][], slot: [] as { p50: number; p99: number }[][] }
  for (let round = 0; round < 2; round++) {
    const [memory, shared] = [memoryLimiter(), redisLimiter(link, 'local')]
    results.hit.push([await time(hit(memory)), await time(hit(shared))])
    memory.close()
    shared.close()
    const [memorySlots, sharedSlots] = [memoryConcurrencyLimiter(), redisConcurrencyLimiter(link, 'local')]
    results.slot.push([await time(slot(memorySlots)), await time(slot(sharedSlots))])
    memorySlots.close()
    sharedSlots.close()
  }
  const best = (runs: { p50: number; p99: number }[][], side: 0 | 1) => ({ p50: Math.min(...runs.map((run) => run[side]!.p50)), p99: Math.min(...runs.map((run) => run[side]!.p99)) })
  rows.push(['rate-limit hit', best(results.hit, 0), best(results.hit, 1)])
  rows.push(['concurrency slot (take + give back)', best(results.slot, 0), best(results.slot, 1)])
} finally {
  link.close()
  await deleteKeysUnder(redisUrl, prefix)
}

const ms = (value: number) => value.toFixed(3)
console.log(`\nOne limiter check, sequential, ${CHECKS} per run, best of 2 interleaved runs (Redis at ${new URL(redisUrl).host}).\n`)
console.log('| check | memory p50 ms | Redis p50 ms | added p50 ms | memory p99 ms | Redis p99 ms |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
for (const [name, memory, shared] of rows)
  console.log(`| ${name} | ${ms(memory.p50)} | ${ms(shared.p50)} | ${ms(shared.p50 - memory.p50)} | ${ms(memory.p99)} | ${ms(shared.p99)} |`)
