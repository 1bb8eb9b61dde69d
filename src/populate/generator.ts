// The generator behind `populate-dashboard-data`: realistic mock analytics for trying the
// dashboard: diurnal and weekly traffic, a model mix, token and latency distributions, error
// codes, countries, sessions, ratings and threats.
// Everything is written through the same stores (and so the same rollups) as real traffic,
// with generated = 1 so that `--clear` removes exactly this.
import type { ModelPrice } from '../config'
import type { MockSession, MockThreat, MockUser } from '../db/stores/populate'
import type { GeneratedRating } from '../feedback/store'
import { DAY, floorTo, HOUR, MINUTE } from '../http/dates'
import { countryName } from '../telemetry/country'
import type { Outcome } from '../telemetry/facts'
import { pricing } from '../telemetry/prices'
import type { LogRow } from '../telemetry/store'
import type { Runtime } from '../runtime'
import type { Severity, ThreatType } from '../threats/store'

export type PopulateOptions = { days: number; users: number; requests: number; now?: number }

/** What a hosted model might cost, so that the cost charts show something without MODEL_PRICES. */
const demoPrices: ModelPrice[] = [
  { pattern: 'gpt-4o-mini', input: 0.15, output: 0.6, image: 0 },
  { pattern: 'gpt-4o', input: 2.5, output: 10, image: 0 },
  { pattern: 'claude-3-5-haiku', input: 0.8, output: 4, image: 0 },
]

// [value, weight] tables.
const models: [string, number][] = [
  ['llama3.2', 34],
  ['qwen2.5:7b', 18],
  ['gpt-4o-mini', 16],
  ['mistral:7b', 11],
  ['gemma2:9b', 8],
  ['claude-3-5-haiku', 6],
  ['gpt-4o', 4],
  ['phi3:mini', 3],
]
const countries: [string, number][] = [
  ['US', 30], ['IN', 10], ['DE', 8], ['GB', 7], ['ID', 6], ['BR', 6], ['FR', 5], ['JP', 4],
  ['CA', 4], ['NL', 3], ['SG', 3], ['AU', 3], ['ES', 2], ['PL', 2], ['KR', 2], ['NG', 2],
]
const agents: [string, number][] = [
  ['AI-Studio-Frontend/1.0', 55],
  ['OpenAI/JS 4.77.0', 20],
  ['python-requests/2.32.3', 10],
  ['langchain-js/0.3.6', 8],
  ['curl/8.10.1', 7],
]
/** Failures of a chat request: [status, outcome, error type, weight in 1000]. */
const chatFailures: [number, Outcome, string, number][] = [
  [400, 'client_error', 'invalid_value', 18],
  [413, 'client_error', 'payload_too_large', 3],
  [404, 'client_error', 'model_not_found', 5],
  [429, 'client_error', 'rate_limited', 10],
  [500, 'server_error', 'internal_error', 3],
  [503, 'upstream_error', 'upstream_unavailable', 5],
  [504, 'upstream_error', 'upstream_timeout', 4],
  [200, 'cancelled', 'cancelled', 15],
  [200, 'upstream_error', 'upstream_disconnected', 4],
]
const otherRoutes: [string, string, number][] = [
  ['GET', '/v1/models', 40],
  ['GET', '/api/dashboard/', 30],
  ['GET', '/api/auth/me/', 15],
  ['POST', '/api/auth/refresh/', 10],
  ['POST', '/api/feedback/', 5],
]
// Types and severities as the protection feature raises them (src/threats/monitor.ts), the
// escalated ones rarer.
const threatKinds: [ThreatType, Severity, string, number][] = [
  ['rate_limit', 'medium', 'chat limit of 60 requests per minute exceeded (3 in 60 min)', 30],
  ['rate_limit', 'high', 'chat limit of 60 requests per minute exceeded (10 in 60 min)', 8],
  ['rate_limit', 'critical', 'chat limit of 60 requests per minute exceeded (30 or more in 60 min)', 2],
  ['suspicious_content', 'medium', 'ignore_instructions in messages[0]: "ignore all previous instructions"', 25],
  ['brute_force', 'high', 'failed sign-ins from 203.0.113.7 (5 in 15 min)', 12],
  ['brute_force', 'critical', 'failed sign-ins from 203.0.113.7 (20 or more in 15 min)', 3],
  ['invalid_token', 'low', 'a forged or tampered access token was presented (1 in 10 min)', 10],
  ['invalid_token', 'medium', 'a forged or tampered access token was presented (5 in 10 min)', 2],
  ['oversized_payload', 'medium', 'oversized requests from 198.51.100.4 (3 in 5 min)', 5],
  ['malformed_flood', 'high', 'malformed requests from 198.51.100.9 (100 in 1 min)', 3],
]
const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Katherine Johnson', 'Linus Torvalds', 'Margaret Hamilton']

function picker<T>(table: T[], weightOf: (item: T) => number): () => T {
  const cumulative: number[] = []
  let sum = 0
  for (const item of table) cumulative.push((sum += weightOf(item)))
  return () => {
    const target = Math.random() * sum
    let low = 0
    let high = cumulative.length - 1
    while (low < high) {
      const mid = (low + high) >>> 1
      if (cumulative[mid]! > target) high = mid
      else low = mid + 1
    }
    return table[low]!
  }
}

const gaussian = () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random())
const logNormal = (median: number, spread: number) => median * Math.exp(spread * gaussian())
const randomId = () => Math.random().toString(36).slice(2, 12) + Math.random().toString(36).slice(2, 12)
const testNetAddress = () => `203.0.113.${1 + Math.floor(Math.random() * 254)}`

/** Traffic weight of an hour: busy in the (UTC) afternoon, quiet at night and at weekends. */
function hourWeight(time: number): number {
  const date = new Date(time)
  const hour = date.getUTCHours()
  const diurnal = 0.2 + 0.8 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI)) ** 1.5
  const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6 ? 0.55 : 1
  return diurnal * weekend * (0.85 + 0.3 * Math.random())
}

/** Splits `total` over the hours of the window in proportion to their weights. */
function hourlyCounts(from: number, to: number, total: number): { start: number; end: number; count: number }[] {
  const hours: { start: number; end: number; weight: number }[] = []
  for (let start = floorTo(from, HOUR); start < to; start += HOUR) {
    const end = Math.min(start + HOUR, to)
    hours.push({ start: Math.max(start, from), end, weight: (hourWeight(start) * (end - Math.max(start, from))) / HOUR })
  }
  const weightSum = hours.reduce((sum, hour) => sum + hour.weight, 0)
  let assigned = 0
  let carry = 0
  return hours.map((hour) => {
    carry += (hour.weight / weightSum) * total
    const count = Math.round(carry) - assigned
    assigned += count
    return { start: hour.start, end: hour.end, count }
  })
}

export type Progress = (done: number, total: number) => void

export async function populate(rt: Runtime, prices: ModelPrice[], options: PopulateOptions, progress: Progress = () => {}) {
  const now = options.now ?? Date.now()
  const from = now - options.days * DAY
  const costOf = pricing([...prices, ...demoPrices])
  const pickModel = picker(models, ([, w]) => w)
  const pickCountry = picker(countries, ([, w]) => w)
  const pickAgent = picker(agents, ([, w]) => w)
  const pickFailure = picker(chatFailures, ([, , , w]) => w)
  const pickRoute = picker(otherRoutes, ([, , w]) => w)
  const pickThreat = picker(threatKinds, ([, , , w]) => w)
  const pickRateLimit = picker(
    threatKinds.filter(([type]) => type === 'rate_limit'),
    ([, , , w]) => w,
  )
  const pickRating = picker([5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 3, 3, 3, 2, 2, 1], () => 1)

  // Each user signs in every day or two; a request belongs to the user's latest sign-in.
  const users: MockUser[] = []
  const sessions: MockSession[] = []
  const signIns = new Map<string, MockSession[]>()
  const homes = new Map<string, string>()
  for (let i = 0; i < options.users; i++) {
    const id = Bun.randomUUIDv7()
    const name = names[i % names.length]!
    users.push({ id, email: `demo-${i + 1}-${randomId().slice(0, 6)}@example.com`, name, createdAt: from - 7 * DAY })
    homes.set(id, pickCountry()[0])
    const own: MockSession[] = []
    for (let time = from - Math.random() * 24 * HOUR; time < now; time += (12 + Math.random() * 36) * HOUR) {
      const session = {
        id: Bun.randomUUIDv7(),
        userId: id,
        provider: Math.random() < 0.6 ? 'google' : 'email',
        ip: testNetAddress(),
        userAgent: pickAgent()[0],
        country: countryName(homes.get(id)!),
        createdAt: Math.round(time),
      }
      own.push(session)
      sessions.push(session)
    }
    signIns.set(id, own)
  }
  await rt.store.populate.insertAccounts(users, sessions)
  // Requests are made in time order, so each user's current sign-in only moves forward.
  const current = new Map<string, number>()
  const sessionAt = (userId: string, time: number) => {
    const own = signIns.get(userId)!
    let index = current.get(userId) ?? 0
    while (index + 1 < own.length && own[index + 1]!.createdAt <= time) index++
    current.set(userId, index)
    return own[index]!
  }

  const chunk: LogRow[] = []
  const ratings: GeneratedRating[] = []
  const threats: MockThreat[] = []
  let done = 0
  const flush = async () => {
    await rt.store.telemetry.insertLogs(chunk)
    await rt.store.feedback.addGenerated(ratings)
    await rt.store.populate.insertThreats(threats)
    done += chunk.length
    chunk.length = ratings.length = threats.length = 0
    progress(done, options.requests)
  }

  for (const hour of hourlyCounts(from, now, options.requests)) {
    const times = Array.from({ length: hour.count }, () => hour.start + Math.random() * (hour.end - hour.start)).sort(
      (a, b) => a - b,
    )
    for (const time of times) {
      const createdAt = Math.floor(time)
      const user = users.length && Math.random() < 0.96 ? users[Math.floor(Math.random() * users.length)]! : undefined
      const session = user ? sessionAt(user.id, createdAt) : undefined
      // People travel and share keys: most requests come from the sign-in's country, not all.
      const country = session && Math.random() < 0.6 ? session.country : countryName(pickCountry()[0])
      const row: LogRow = {
        requestId: Bun.randomUUIDv7(undefined, createdAt),
        createdAt,
        method: 'POST',
        path: '/v1/chat/completions',
        status: 200,
        latencyMs: 0,
        userId: user?.id ?? null,
        apiKeyId: null,
        sessionId: session?.id ?? null,
        model: null,
        upstream: null,
        completionId: null,
        promptTokens: 0,
        completionTokens: 0,
        ttftMs: null,
        cost: 0,
        country,
        ip: session?.ip ?? testNetAddress(),
        userAgent: session?.userAgent ?? pickAgent()[0],
        errorType: null,
        outcome: 'ok',
        generated: true,
      }
      if (!user) unauthenticated(row)
      else if (Math.random() < 0.82) chat(row)
      else other(row)
      chunk.push(row)
      if ((row.status === 429 && Math.random() < 0.3) || (row.outcome !== 'ok' && Math.random() < 0.01)) threat(row)
      if (chunk.length >= 20_000) await flush()
    }
  }
  await flush()
  return { users: users.length, sessions: sessions.length, requests: done }

  function chat(row: LogRow) {
    const [model] = pickModel()
    row.model = model
    row.upstream = model.startsWith('gpt') || model.startsWith('claude') ? 'https://api.example.com' : 'http://ollama:11434'
    row.promptTokens = Math.max(5, Math.round(logNormal(220, 0.9)))
    const failure = Math.random() < 0.07 ? pickFailure() : undefined
    if (failure && failure[0] >= 400) {
      ;[row.status, row.outcome, row.errorType] = failure
      row.latencyMs = failure[0] === 504 ? 30_000 + Math.random() * 500 : logNormal(15, 0.6)
      row.promptTokens = 0
      return
    }
    const completion = Math.max(1, Math.round(logNormal(260, 0.8)))
    // Cancelled and cut streams end part-way through.
    row.completionTokens = failure ? Math.round(completion * Math.random()) : completion
    row.ttftMs = logNormal(model.includes('gpt') || model.includes('claude') ? 350 : 180, 0.5)
    row.latencyMs = row.ttftMs + row.completionTokens * logNormal(model.includes('7b') || model.includes('9b') ? 22 : 14, 0.25)
    // Time-ordered ids: a million of them go into the completion index in order, not at random.
    row.completionId = `chatcmpl-${Bun.randomUUIDv7('hex', row.createdAt)}`
    row.cost = costOf(model, row.promptTokens, row.completionTokens)
    if (failure) [, row.outcome, row.errorType] = failure
    else if (row.userId && Math.random() < 0.06)
      ratings.push({
        completionId: row.completionId,
        userId: row.userId,
        rating: pickRating(),
        comment: Math.random() < 0.3 ? 'generated comment' : null,
        createdAt: Math.min(now - 1, row.createdAt + Math.round(Math.random() * 10 * MINUTE)),
      })
  }

  function other(row: LogRow) {
    ;[row.method, row.path] = pickRoute()
    row.latencyMs = logNormal(row.path === '/v1/models' ? 40 : 8, 0.7)
  }

  function unauthenticated(row: LogRow) {
    if (Math.random() < 0.5) other(row)
    else row.latencyMs = logNormal(3, 0.5)
    row.status = 401
    row.outcome = 'client_error'
    row.errorType = Math.random() < 0.5 ? 'missing_token' : 'invalid_token'
  }

  function threat(row: LogRow) {
    const [type, severity, detail] = row.status === 429 ? pickRateLimit() : pickThreat()
    const age = now - row.createdAt
    threats.push({
      type,
      severity,
      userId: row.userId,
      address: row.ip ?? testNetAddress(),
      detail,
      createdAt: row.createdAt,
      resolvedAt: age > DAY && Math.random() < 0.7 ? row.createdAt + Math.round(Math.random() * age) : null,
    })
  }
}
