// `bun run bench`: runs each benchmark in its own process, one after another, so that one
// bench's servers and timers cannot disturb the next. A new bench is a line here. The dashboard
// and conversation benches run twice: on SQLite, then on PostgreSQL (BENCH_POSTGRES_URL, default
// this machine's database `test`, in a schema made for each and dropped afterwards;
// BENCH_POSTGRES=0 skips it). The replicas, limiter and overhead benches need PostgreSQL and Redis
// (BENCH_REDIS_URL); BENCH_POSTGRES=0 skips them too.
import { SQL } from 'bun'

const postgresUrl = process.env.BENCH_POSTGRES === '0' ? undefined : (process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
const schema = `bench_dashboard_${process.pid}`
const conversationsSchema = `bench_conversations_${process.pid}`

const benches: { file: string; env?: Record<string, string> }[] = [
  { file: 'gateway.ts' },
  { file: 'embeddings.ts' },
  { file: 'protection.ts' },
  { file: 'hostile.ts' },
  { file: 'dashboard.ts' },
  ...(postgresUrl ? [{ file: 'dashboard.ts', env: { BENCH_DATABASE_URL: withSchema(postgresUrl, schema) } }] : []),
  ...(postgresUrl ? [{ file: 'replicas.ts' }, { file: 'limiter.ts' }, { file: 'overhead.ts' }] : []),
  { file: 'ws.ts' },
  { file: 'apis.ts' },
  { file: 'conversations.ts' },
  ...(postgresUrl ? [{ file: 'conversations.ts', env: { BENCH_DATABASE_URL: withSchema(postgresUrl, conversationsSchema) } }] : []),
  { file: 'startup.ts' },
  { file: 'metrics.ts' },
  { file: 'allocations.ts' },
]

function withSchema(url: string, name: string) {
  const parsed = new URL(url)
  parsed.searchParams.set('schema', name)
  return parsed.toString()
}

let failed = false
for (const bench of benches) {
  const child = Bun.spawn(['bun', `${import.meta.dir}/${bench.file}`], { stdio: ['inherit', 'inherit', 'inherit'], env: { ...process.env, ...bench.env } })
  if ((await child.exited) !== 0) {
    console.error(`bench/${bench.file} failed`)
    failed = true
  }
}
if (postgresUrl) {
  const admin = new SQL(postgresUrl)
  for (const made of [schema, conversationsSchema]) await admin.unsafe(`DROP SCHEMA IF EXISTS ${made} CASCADE`)
  await admin.close()
}
process.exit(failed ? 1 : 0)
