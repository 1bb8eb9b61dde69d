// Conversation list and search at 100k messages (issue 15): one user holding all of them, 1,000
// conversations of 100 messages of ~30 words each. GET /api/conversations/ through `app.handle`
// as that user, 200 sequential reads per row: the first page, a later page, a word in most
// messages, a word in a few, text in none and text in titles only (the last three read every
// message without an index). Budget: p50 < 20 ms. Run alone: `bun bench/conversations.ts`; on
// PostgreSQL set BENCH_DATABASE_URL to a URL naming an empty schema (or database).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import type { NewMessage } from '../src/db/stores/conversations'
import { startRuntime } from '../src/runtime'
import { seedUser } from '../test/support/users'

const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 1000)
const PER_CONVERSATION = 100
const READS = 200

const folder = process.env.BENCH_DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'bench-conversations-'))
const url = process.env.BENCH_DATABASE_URL ?? `sqlite://${join(folder!, 'bench.db')}`
const rt = await startRuntime(loadConfig({ DATABASE_URL: url, SECRET_KEY: 'bench-secret-key-that-is-long-enough-0123456789' }))
const app = createApp(rt)
const user = await seedUser(rt)

// Words: one in most messages ("common"), one in about 1 message of 2,000 ("zephyr"), and filler.
let seed = 42
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31)
const filler = Array.from({ length: 2000 }, (_, i) => `w${i.toString(36)}x`)
const sentence = () => {
  const words = Array.from({ length: 30 }, () => filler[Math.floor(random() * filler.length)]!)
  if (random() < 0.6) words[3] = 'Common'
  if (random() < 0.0005) words[7] = 'ZEPHYR'
  return words.join(' ')
}
const message = (role: string): NewMessage => ({
  role, content: sentence(), parts: null, toolCalls: null, toolCallId: null, reasoning: null, promptTokens: null,
  completionTokens: null, completionId: null, finishReason: null, state: 'complete',
})

const began = performance.now()
const start = Date.now() - CONVERSATIONS * 60_000
for (let c = 0; c < CONVERSATIONS; c++) {
  const conversation = await rt.store.conversations.create({ userId: user.userId, title: `Chat ${c}`, model: 'llama3.2' }, start + c * 60_000)
  await rt.store.conversations.append(
    conversation.id,
    Array.from({ length: PER_CONVERSATION }, (_, i) => message(i % 2 ? 'assistant' : 'user')),
    start + c * 60_000 + 1,
  )
}
const filled = (performance.now() - began) / 1000

const get = async (query: string) => {
  const res = await app.handle(new Request(`http://localhost/api/conversations/?${query}`, { headers: { authorization: `Bearer ${user.accessToken}` } }))
  if (res.status !== 200) throw new Error(`${query}: ${res.status} ${await res.text()}`)
  return (await res.json()) as { items: unknown[]; nextCursor: string | null }
}
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

const third = await get('limit=50')
const later = await get(`limit=50&cursor=${(await get(`limit=50&cursor=${third.nextCursor}`)).nextCursor}`)
void later
const rows: [string, string][] = [
  ['first page (50)', 'limit=50'],
  ['third page (50)', `limit=50&cursor=${(await get(`limit=50&cursor=${third.nextCursor}`)).nextCursor}`],
  ['search: a word in most messages', 'q=common'],
  ['search: a word in ~1 of 2,000 messages', 'q=zephyr'],
  ['search: text in none', 'q=nowhere-to-be-found'],
  ['search: in titles', 'q=chat%20123'],
]
const dialect = url.startsWith('postgres') ? 'PostgreSQL' : 'SQLite (file)'
console.log(`\n${(CONVERSATIONS * PER_CONVERSATION).toLocaleString('en')} messages in ${CONVERSATIONS.toLocaleString('en')} conversations of one user on ${dialect}, filled in ${filled.toFixed(1)} s; ${READS} sequential reads each.\n`)
console.log('| request | found | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |')
for (const [label, query] of rows) {
  for (let i = 0; i < 10; i++) await get(query)
  const times: number[] = []
  let found = 0
  for (let i = 0; i < READS; i++) {
    const t0 = performance.now()
    found = (await get(query)).items.length
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  console.log(`| ${label} | ${found} | ${quantile(times, 0.5).toFixed(2)} | ${quantile(times, 0.99).toFixed(2)} |`)
}
await rt.close()
if (folder) rmSync(folder, { recursive: true, force: true })
