// Puts a user, a session and an API key straight into the store, for tests of features
// that only need someone signed in. The accounts feature's own tests go through HTTP.
import { Elysia } from 'elysia'
import { randomToken, sha256 } from '../../src/auth/crypto'
import { accessTokens } from '../../src/auth/jwt'
import { API_KEY_PREFIX, type Role } from '../../src/auth/principal'
import { MAX_KEYS } from '../../src/keys/service'
import type { Runtime } from '../../src/runtime'

export async function seedUser(rt: Runtime, options: { email?: string; role?: Role; name?: string } = {}) {
  const now = Date.now()
  const email = options.email ?? `user-${Bun.randomUUIDv7().slice(-8)}@example.com`
  const role = options.role ?? 'user'
  const user = await rt.store.accounts.insertUser(
    { email, passwordHash: null, name: options.name ?? 'Test User', avatarUrl: null, provider: 'email', role, emailVerified: false },
    now,
  )
  const userId = user!.id
  const sessionId = await rt.store.accounts.startSession(
    { userId, provider: 'email', ip: null, userAgent: null, country: null },
    { hash: sha256(randomToken()), expiresAt: now + 86_400_000 },
    now,
  )
  const apiKey = `${API_KEY_PREFIX}${randomToken()}`
  const storedKey = await rt.store.keys.insertBelowLimit(
    // A full-power key (as keys made before scopes were): it reaches whatever its user may.
    { userId, name: 'test', prefix: apiKey.slice(0, 14), keyHash: sha256(apiKey), expiresAt: null, scopes: null, models: null },
    MAX_KEYS,
    now,
  )
  const apiKeyId = storedKey!.id
  const signer = new Elysia().use(accessTokens(rt.secretKey, rt.config.accessTokenMinutes)).decorator.accessToken
  const accessToken = await signer.sign({ sub: userId, role, sid: sessionId, jti: Bun.randomUUIDv7(), typ: 'access' })
  return { userId, sessionId, email, role, apiKey, apiKeyId, accessToken }
}
