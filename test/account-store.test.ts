// The accounts store's contract (rt.store.accounts), whatever database is behind it: users and
// their linked identities, sessions with their refresh-token families, the revocations that go
// with promotion and claiming, and the lookups that tell who is calling.
import { afterAll, describe, expect, test } from 'bun:test'
import { sha256 } from '../src/auth/crypto'
import type { NewUser } from '../src/auth/store'
import { lookupPlans, setActiveOnly } from './support/accounts'
import { testRuntime } from './support/app'
import { recordedLastUse } from './support/keys'

const rt = await testRuntime()
const accounts = rt.store.accounts
afterAll(() => rt.close())

let n = 0
const newUser = (change: Partial<NewUser> = {}): NewUser => ({
  email: `person${++n}@example.com`,
  passwordHash: 'hash',
  name: '',
  avatarUrl: null,
  provider: 'email',
  role: 'user',
  emailVerified: false,
  ...change,
})
const client = { ip: null, userAgent: null, country: null }
const HOUR = 3_600_000

async function signedIn(now = 1_000) {
  const user = (await accounts.insertUser(newUser(), now))!
  const hash = sha256(`token-${++n}`)
  const sessionId = await accounts.startSession({ userId: user.id, provider: 'email', ...client }, { hash, expiresAt: now + HOUR }, now)
  return { user, sessionId, hash }
}

describe('users', () => {
  test('inserted with the given fields, found by id and by email; a taken email inserts nothing', async () => {
    const user = (await accounts.insertUser(newUser({ email: 'ada@example.com', name: 'Ada', role: 'admin', emailVerified: true }), 5_000))!
    expect(user).toEqual({
      id: user.id,
      email: 'ada@example.com',
      passwordHash: 'hash',
      name: 'Ada',
      avatarUrl: null,
      provider: 'email',
      role: 'admin',
      isActive: true,
      emailVerified: true,
      createdAt: 5_000,
      lastLoginAt: null,
    })
    expect(await accounts.findUserById(user.id)).toEqual(user)
    expect(await accounts.findUserByEmail('ada@example.com')).toEqual(user)
    expect(await accounts.insertUser(newUser({ email: 'ada@example.com' }), 6_000)).toBeUndefined()
    expect(await accounts.findUserByEmail('nobody@example.com')).toBeUndefined()
  })

  test('inserts of one email at once: exactly one gets the user', async () => {
    const inserted = await Promise.all(Array.from({ length: 10 }, () => accounts.insertUser(newUser({ email: 'race@example.com' }), 1_000)))
    expect(inserted.filter(Boolean)).toHaveLength(1)
    expect((await accounts.findUserByEmail('race@example.com'))!.id).toBe(inserted.find(Boolean)!.id)
  })

  test('a profile fills only a missing name and avatar', async () => {
    const user = (await accounts.insertUser(newUser(), 1_000))!
    await accounts.fillProfile(user.id, 'Grace', 'https://example.com/a.png')
    await accounts.fillProfile(user.id, 'Other', 'https://example.com/b.png')
    await accounts.fillProfile(user.id, null, null)
    expect(await accounts.findUserById(user.id)).toMatchObject({ name: 'Grace', avatarUrl: 'https://example.com/a.png' })
  })

  test('an identity links once and finds its user', async () => {
    const user = (await accounts.insertUser(newUser(), 1_000))!
    const other = (await accounts.insertUser(newUser(), 1_000))!
    await accounts.linkIdentity({ provider: 'github', subject: '42', userId: user.id, email: user.email }, 2_000)
    await accounts.linkIdentity({ provider: 'github', subject: '42', userId: other.id, email: other.email }, 3_000)
    expect((await accounts.findUserByIdentity('github', '42'))!.id).toBe(user.id)
    expect(await accounts.findUserByIdentity('google', '42')).toBeUndefined()
  })

  test('promotion makes an active, verified admin and revokes its sessions and keys', async () => {
    const { user, sessionId } = await signedIn()
    const key = (await rt.store.keys.insertBelowLimit({ userId: user.id, name: 'k', prefix: 'sk-studio-abcd', keyHash: sha256('k1'), expiresAt: null, scopes: ['inference'], models: null }, 50, 1_000))!
    await setActiveOnly(rt, user.id, false)
    await accounts.promoteToAdmin(user.id, { passwordHash: 'new hash', name: 'Root' }, 2_000)
    expect(await accounts.findUserById(user.id)).toMatchObject({ role: 'admin', isActive: true, emailVerified: true, passwordHash: 'new hash', name: 'Root' })
    expect((await accounts.sessionHolder(user.id, sessionId))!.sessionRevokedAt).toBe(2_000)
    expect((await accounts.apiKeyHolder(sha256('k1')))!).toMatchObject({ keyId: key.id, revokedAt: 2_000 })
    await accounts.promoteToAdmin(user.id, { passwordHash: 'newer hash' }, 3_000)
    expect(await accounts.findUserById(user.id)).toMatchObject({ name: 'Root', passwordHash: 'newer hash' })
  })

  test('claiming drops the password, verifies the address and revokes the sessions', async () => {
    const { user, sessionId } = await signedIn()
    await accounts.claimUnverifiedAccount(user.id, 2_000)
    expect(await accounts.findUserById(user.id)).toMatchObject({ passwordHash: null, emailVerified: true })
    expect((await accounts.sessionHolder(user.id, sessionId))!.sessionRevokedAt).toBe(2_000)
  })
})

describe('sessions', () => {
  test('starting one records the login and stores the refresh token by its hash', async () => {
    const { user, sessionId, hash } = await signedIn(7_000)
    expect((await accounts.findUserById(user.id))!.lastLoginAt).toBe(7_000)
    expect(await accounts.findRefreshToken(hash)).toEqual({ sessionId, userId: user.id, expiresAt: 7_000 + HOUR, usedAt: null, sessionRevokedAt: null })
    expect(await accounts.sessionHolder(user.id, sessionId)).toEqual({ userId: user.id, email: user.email, role: 'user', isActive: true, sessionRevokedAt: null, maxConcurrentRequests: null })
    expect(await accounts.sessionHolder('someone-else', sessionId)).toBeUndefined()
  })

  test('rotation spends the token and stores its successor; spending it again revokes the session', async () => {
    const { user, sessionId, hash } = await signedIn()
    const token = (await accounts.findRefreshToken(hash))!
    const next = { hash: sha256('next'), expiresAt: 2_000 + HOUR }
    expect(await accounts.rotateRefreshToken(token, hash, next, 2_000)).toEqual({ outcome: 'rotated', user: { ...user, lastLoginAt: 1_000 } })
    expect((await accounts.findRefreshToken(hash))!.usedAt).toBe(2_000)
    expect((await accounts.findRefreshToken(next.hash))!.usedAt).toBeNull()
    // The same token again, as read before it was spent (a concurrent use) or after.
    expect(await accounts.rotateRefreshToken(token, hash, { hash: sha256('other'), expiresAt: 3_000 + HOUR }, 3_000)).toEqual({ outcome: 'reused' })
    expect(await accounts.findRefreshToken(sha256('other'))).toBeUndefined()
    expect((await accounts.findRefreshToken(next.hash))!.sessionRevokedAt).toBe(3_000)
    await accounts.revokeSession(sessionId, 4_000)
    expect((await accounts.sessionHolder(user.id, sessionId))!.sessionRevokedAt).toBe(3_000)
  })

  test('two rotations of one token at once: one rotates, the other finds it spent and revokes the session', async () => {
    const { user, sessionId, hash } = await signedIn()
    const token = (await accounts.findRefreshToken(hash))!
    const rotations = await Promise.all(
      ['a', 'b'].map((name) => accounts.rotateRefreshToken(token, hash, { hash: sha256(`racer-${name}`), expiresAt: 2_000 + HOUR }, 2_000)),
    )
    expect(rotations.map((rotation) => rotation.outcome).sort()).toEqual(['reused', 'rotated'])
    expect((await accounts.sessionHolder(user.id, sessionId))!.sessionRevokedAt).toBe(2_000)
  })

  test('an expired token, or a deactivated user, is spent but gets no successor', async () => {
    const { hash } = await signedIn()
    const token = (await accounts.findRefreshToken(hash))!
    expect(await accounts.rotateRefreshToken(token, hash, { hash: sha256('late'), expiresAt: 9 * HOUR }, 1_000 + HOUR)).toEqual({ outcome: 'refused' })
    expect(await accounts.findRefreshToken(sha256('late'))).toBeUndefined()
    // Spending it dropped the family's expired tokens, itself included.
    expect(await accounts.findRefreshToken(hash)).toBeUndefined()

    const other = await signedIn()
    const live = (await accounts.findRefreshToken(other.hash))!
    await setActiveOnly(rt, other.user.id, false)
    expect(await accounts.rotateRefreshToken(live, other.hash, { hash: sha256('off'), expiresAt: 9 * HOUR }, 2_000)).toEqual({ outcome: 'refused' })
    expect(await accounts.findRefreshToken(sha256('off'))).toBeUndefined()
  })
})

describe('API keys', () => {
  test('the holder of a key, found by its hash; its use is kept to the minute', async () => {
    const user = (await accounts.insertUser(newUser(), 1_000))!
    const key = (await rt.store.keys.insertBelowLimit({ userId: user.id, name: 'k', prefix: 'sk-studio-wxyz', keyHash: sha256('k2'), expiresAt: 50_000, scopes: ['inference', 'read'], models: ['llama3.2', 'qwen*'] }, 50, 1_000))!
    expect(await accounts.apiKeyHolder(sha256('k2'))).toEqual({
      userId: user.id,
      email: user.email,
      role: 'user',
      isActive: true,
      keyId: key.id,
      keyHash: sha256('k2'),
      expiresAt: 50_000,
      revokedAt: null,
      lastUsedAt: null,
      scopes: ['inference', 'read'],
      models: ['llama3.2', 'qwen*'],
      maxConcurrentRequests: null,
      keyMaxConcurrentRequests: null,
    })
    expect(await accounts.apiKeyHolder(sha256('unknown'))).toBeUndefined()
    // Recording is not awaited (it must not delay the request): wait until the stored time changes.
    accounts.recordApiKeyUse(key.id, 100_000)
    accounts.recordApiKeyUse(key.id, 130_000)
    expect(await recordedLastUse(rt, key.id)).toBe(100_000)
    expect((await accounts.apiKeyHolder(sha256('k2')))!.lastUsedAt).toBe(100_000)
    accounts.recordApiKeyUse(key.id, 160_001)
    expect(await recordedLastUse(rt, key.id, 100_000)).toBe(160_001)
  })
})

describe('indexes', () => {
  test('every sign-in and per-request lookup reads an index, never the whole table', async () => {
    // SQLite says SCAN, PostgreSQL Seq Scan, for a read of the whole table.
    for (const [lookup, plan] of Object.entries(await lookupPlans(rt))) expect(`${lookup}: ${plan}`).not.toMatch(/Seq Scan|\bSCAN\b/)
  })
})
