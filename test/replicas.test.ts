// Replicas run together: real `serve` processes on one PostgreSQL schema, one Redis prefix and
// one SECRET_KEY (./support/replicas.ts). What one replica does to an account, another enforces
// within a second; the dashboard reads the same from either; and a replica stopped with SIGTERM
// under chat load loses no request, its clients retrying its 503s on the other.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { logRows } from './support/log'
import { replicasReachable, startReplicas, type Replica, type Replicas } from './support/replicas'
import { seedUser } from './support/users'
import { PROPAGATION_MS, within } from './support/within'

const reachable = await replicasReachable('test/replicas.test.ts')

let accounts = 0
/** Registers a new account through `replica`: its token pair and user. */
async function register(replica: Replica) {
  const email = `replica-user-${++accounts}-${Bun.randomUUIDv7().slice(-6)}@example.com`
  const password = 'correct horse battery staple'
  const res = await replica.call('/api/auth/register', { method: 'POST', json: { email, password } })
  expect(res.status).toBe(201)
  const pair = (await res.json()) as { accessToken: string; refreshToken: string; user: { id: string } }
  return { ...pair, email, password, userId: pair.user.id }
}

async function createKey(replica: Replica, token: string) {
  const res = await replica.call('/api/keys', { method: 'POST', token, json: { name: 'replicas' } })
  expect(res.status).toBe(201)
  return (await res.json()) as { id: string; key: string }
}

/** The status of an authenticated read on `replica` with `token` (a JWT or an API key). */
const statusOf = async (replica: Replica, path: string, token: string) => {
  const res = await replica.call(path, { token })
  await res.arrayBuffer()
  return res.status
}

const chat = (replica: Replica, token: string, stream: boolean, headers: Record<string, string> = {}, model = 'llama3.2') =>
  replica.call('/v1/chat/completions', {
    method: 'POST',
    token,
    headers,
    json: { model, stream, messages: [{ role: 'user', content: 'Hello' }] },
  })

describe.if(reachable)('replicas on one database, one Redis and one SECRET_KEY', () => {
  let group: Replicas
  let a: Replica
  let b: Replica
  let adminToken: string

  beforeAll(async () => {
    // Rows reach the database a second after their request at the latest: the dashboard test
    // below relies on that window being long against a request, and short against its waits.
    group = await startReplicas(2, { LOG_FLUSH_MS: '1000' })
    ;[a, b] = group.replicas as [Replica, Replica]
    adminToken = (await seedUser(await group.store(), { role: 'admin' })).accessToken
  }, 120_000)
  afterAll(() => group?.stop(), 30_000)

  test('an account registered on one replica signs in, refreshes and is served on the other', async () => {
    const account = await register(a)
    const me = await b.call('/api/auth/me', { token: account.accessToken })
    expect(me.status).toBe(200)
    expect(((await me.json()) as { id: string }).id).toBe(account.userId)

    const login = await b.call('/api/auth/login', { method: 'POST', json: { email: account.email, password: account.password } })
    expect(login.status).toBe(200)
    const signedIn = (await login.json()) as { refreshToken: string }
    // A refresh token issued by one replica is spent on the other; the new access token works on both.
    const refreshed = await a.call('/api/auth/refresh', { method: 'POST', json: { refreshToken: signedIn.refreshToken } })
    expect(refreshed.status).toBe(200)
    const { accessToken } = (await refreshed.json()) as { accessToken: string }
    expect(await statusOf(b, '/api/auth/me', accessToken)).toBe(200)
    const key = await createKey(b, account.accessToken)
    // Spent on one replica is spent on all: replayed on the other, it revokes the session (reuse
    // detection), whose access token the first replica then refuses.
    const replayed = await b.call('/api/auth/refresh', { method: 'POST', json: { refreshToken: signedIn.refreshToken } })
    expect(replayed.status).toBe(401)
    await within(PROPAGATION_MS, performance.now(), 'the replica that refreshed refusing the replayed session', async () => (await statusOf(a, '/api/auth/me', accessToken)) === 401)
    const reply = await chat(a, key.key, false)
    expect(reply.status).toBe(200)
    expect(((await reply.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toContain('tok0')
  })

  test('a user deactivated on one replica: the other refuses their token and API key within 1 s', async () => {
    const account = await register(a)
    const key = await createKey(a, account.accessToken)
    expect(await statusOf(b, '/api/auth/me', account.accessToken)).toBe(200)
    expect(await statusOf(b, '/v1/models', key.key)).toBe(200)

    const change = await a.call(`/api/admin/users/${account.userId}`, { method: 'PATCH', token: adminToken, json: { isActive: false } })
    expect(change.status).toBe(200)
    const changedAt = performance.now()
    await within(PROPAGATION_MS, changedAt, 'the other replica refusing the access token', async () => (await statusOf(b, '/api/auth/me', account.accessToken)) === 401)
    await within(PROPAGATION_MS, changedAt, 'the other replica refusing the API key', async () => (await statusOf(b, '/v1/models', key.key)) === 401)
    // Still refused once seen: not a passing glitch.
    expect(await statusOf(b, '/api/auth/me', account.accessToken)).toBe(401)
    expect(await statusOf(b, '/v1/models', key.key)).toBe(401)
  })

  test('a role changed on one replica is the role the other applies, within 1 s, both ways', async () => {
    const account = await register(a)
    expect(await statusOf(b, '/api/admin/users', account.accessToken)).toBe(403)

    const promote = await a.call(`/api/admin/users/${account.userId}`, { method: 'PATCH', token: adminToken, json: { role: 'admin' } })
    expect(promote.status).toBe(200)
    await within(PROPAGATION_MS, performance.now(), 'the other replica letting the new admin in', async () => (await statusOf(b, '/api/admin/users', account.accessToken)) === 200)

    const demote = await a.call(`/api/admin/users/${account.userId}`, { method: 'PATCH', token: adminToken, json: { role: 'user' } })
    expect(demote.status).toBe(200)
    await within(PROPAGATION_MS, performance.now(), 'the other replica refusing the demoted admin', async () => (await statusOf(b, '/api/admin/users', account.accessToken)) === 403)
    // The account itself still works there: only the role changed.
    expect(await statusOf(b, '/api/auth/me', account.accessToken)).toBe(200)
  })

  test('an API key revoked on one replica is refused by the other within 1 s; the user’s other key still works', async () => {
    const account = await register(a)
    const revoked = await createKey(a, account.accessToken)
    const kept = await createKey(b, account.accessToken)
    expect(await statusOf(b, '/v1/models', revoked.key)).toBe(200)

    const revoke = await a.call(`/api/keys/${revoked.id}`, { method: 'DELETE', token: account.accessToken })
    expect(revoke.status).toBe(204)
    await within(PROPAGATION_MS, performance.now(), 'the other replica refusing the revoked key', async () => (await statusOf(b, '/v1/models', revoked.key)) === 401)
    const refused = await b.call('/v1/models', { token: revoked.key })
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key')
    expect(await statusOf(b, '/v1/models', kept.key)).toBe(200)
  })

  test('a session signed out on one replica: the other refuses its access token within 1 s; another session goes on', async () => {
    const account = await register(a)
    const login = await b.call('/api/auth/login', { method: 'POST', json: { email: account.email, password: account.password } })
    expect(login.status).toBe(200)
    const other = (await login.json()) as { accessToken: string }
    expect(await statusOf(b, '/api/auth/me', account.accessToken)).toBe(200)

    const logout = await a.call('/api/auth/logout', { method: 'POST', json: { refreshToken: account.refreshToken } })
    expect(logout.status).toBe(204)
    await within(PROPAGATION_MS, performance.now(), 'the other replica refusing the signed-out session', async () => (await statusOf(b, '/api/auth/me', account.accessToken)) === 401)
    const refresh = await b.call('/api/auth/refresh', { method: 'POST', json: { refreshToken: account.refreshToken } })
    expect(refresh.status).toBe(401)
    expect(await statusOf(b, '/api/auth/me', other.accessToken)).toBe(200)
    expect(await statusOf(a, '/api/auth/me', other.accessToken)).toBe(200)
  })

  test('after traffic through both, the dashboard reads the same from either, and its totals are the rows', async () => {
    const store = await group.store()
    const user = await seedUser(store)
    for (let i = 0; i < 6; i++)
      for (const replica of [a, b]) {
        const res = await chat(replica, user.apiKey, i % 2 === 0)
        expect(res.status).toBe(200)
        await res.text()
      }
    const unknown = await chat(b, user.apiKey, false, {}, 'no-such-model')
    expect(unknown.status).toBe(404)
    await unknown.text()

    // Settled: every replica has written its queue (LOG_FLUSH_MS is 1 s), and nothing else arrives.
    let rows = -1
    for (let previous = -2; rows !== previous; await Bun.sleep(1_500)) [previous, rows] = [rows, (await logRows(store)).length]
    const userRows = (await logRows(store, (row) => row.userId === user.userId)).length
    expect(userRows).toBe(13)

    // Read at once from both, so that neither read's own row (written a second later) is in the
    // other's; the admin's pair first, whose rows are outside the user's dashboard read next.
    const read = async (replica: Replica, token: string) => {
      const res = await replica.call('/api/dashboard/?range=24h', { token })
      expect(res.status).toBe(200)
      const { generatedAt: _, ...dashboard } = (await res.json()) as { generatedAt: string; summary: { totalRequests: number }; topModels: { name: string; requests: number }[] }
      return dashboard
    }
    const [adminA, adminB] = await Promise.all([read(a, adminToken), read(b, adminToken)])
    const [userA, userB] = await Promise.all([read(a, user.accessToken), read(b, user.accessToken)])
    expect(adminB).toEqual(adminA)
    expect(userB).toEqual(userA)
    expect(adminA.summary.totalRequests).toBe(rows)
    expect(userA.summary.totalRequests).toBe(userRows)
    expect(userA.topModels).toEqual([{ name: 'llama3.2', requests: 12 }])
  }, 30_000)
})

describe.if(reachable)('a replica stopped under load', () => {
  test(
    'SIGTERM of one replica under chat load: the other keeps serving, its 503s are retried there, and every answered request is one row',
    async () => {
      const group = await startReplicas(2, { RATE_LIMIT_CHAT: '0', MAX_CONCURRENT_REQUESTS: '0' }, { chunks: 20, chunkDelayMs: 10 })
      try {
        const [a, b] = group.replicas as [Replica, Replica]
        const store = await group.store()
        const { apiKey } = await seedUser(store)

        const answered: { requestId: string; replica: number }[] = []
        const refused: string[] = []
        /** Requests that found the stopping replica no longer listening (refused or reset). */
        const reset: string[] = []
        const gone = new Set<number>()
        let done = false
        /** One chat, sent to `first` and, while a replica refuses it or is gone, to the other. */
        const send = async (client: number, n: number, first: number) => {
          const stream = n % 2 === 0
          let target = first
          for (let attempt = 0; attempt < 6; attempt++) {
            if (gone.has(target)) target = 1 - target
            const requestId = `load-${client}-${n}-${attempt}`
            let res: Response
            let body: string
            try {
              res = await chat(group.replicas[target]!, apiKey, stream, { 'x-request-id': requestId })
              body = await res.text()
            } catch {
              reset.push(requestId)
              gone.add(target) // refused or reset: it has stopped listening
              target = 1 - target
              continue
            }
            if (res.status === 503 && body.includes('"server_shutting_down"')) {
              refused.push(requestId)
              target = 1 - target
              continue
            }
            expect({ status: res.status, body }).toMatchObject({ status: 200 })
            if (stream) {
              expect(body).not.toContain('event: error')
              expect(body.endsWith('data: [DONE]\n\n')).toBe(true)
            } else expect(JSON.parse(body).choices[0].finish_reason).toBe('stop')
            answered.push({ requestId, replica: target })
            return
          }
          throw new Error(`chat ${client}/${n}: no replica answered it`)
        }
        // Clients arrive spread over one reply's time (20 × 10 ms), as independent ones do: started
        // at once they would stay in lockstep, and could all be mid-reply for the whole drain.
        const clients = Array.from({ length: 16 }, async (_, client) => {
          await Bun.sleep((200 * client) / 16)
          for (let n = 0; !done; n++) await send(client, n, (client + n) % 2)
        })
        const load = Promise.all(clients)
        const until = async (condition: () => boolean, what: string) => {
          for (const deadline = Date.now() + 30_000; !condition(); await Bun.sleep(20)) {
            if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`)
          }
        }

        await until(() => answered.length >= 60, 'traffic through both replicas')
        await a.terminate()
        expect(await a.exited).toBe(0)
        expect(a.stdout()).toContain('stopped cleanly')
        const atExit = answered.length
        await until(() => answered.length >= atExit + 60, 'the other replica serving on its own')
        done = true
        await load
        // The survivor's rows are written when it stops too.
        await b.terminate()
        expect(await b.exited).toBe(0)

        // Requests reached the stopping replica and were retried on the other: answered 503 while it
        // drained, or refused once it had closed (which of the two depends on the moment).
        expect(refused.length + reset.length).toBeGreaterThan(0)
        expect(answered.filter((request) => request.replica === 0).length).toBeGreaterThan(0)
        expect(answered.slice(atExit).every((request) => request.replica === 1)).toBe(true)

        const rows = (await logRows(store)).filter((row) => row.path === '/v1/chat/completions')
        const byId = Map.groupBy(rows, (row) => row.requestId)
        for (const { requestId } of answered) {
          expect({ requestId, rows: byId.get(requestId)?.map(({ status, outcome }) => ({ status, outcome })) }).toEqual({
            requestId,
            rows: [{ status: 200, outcome: 'ok' }],
          })
        }
        expect(rows.filter((row) => row.status === 200)).toHaveLength(answered.length)
        expect(rows.filter((row) => row.errorType === 'server_shutting_down').map((row) => row.requestId).sort()).toEqual(refused.sort())
        expect(rows).toHaveLength(answered.length + refused.length)

        const all = await logRows(store)
        expect((await store.store.dashboard.logCounts(0)).total).toBe(all.length)
        for (const replica of [a, b]) expect(replica.stderr()).not.toContain('request log:')
      } finally {
        await group.stop()
      }
    },
    120_000,
  )
})
