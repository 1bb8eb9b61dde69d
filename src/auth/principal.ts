// Who is calling: the user behind a JWT access token or an API key, checked against the
// store on every request so that deactivation, revocation and role changes apply at once.
import type { Role } from './store'
import type { Runtime } from '../runtime'
import { sameHash, sha256 } from './crypto'

export type { Role }

export type Principal = {
  userId: string
  role: Role
  email: string
  sessionId?: string
  apiKeyId?: string
}

export const API_KEY_PREFIX = 'sk-studio-'

export async function principalForSession(rt: Runtime, userId: string, sessionId: string): Promise<Principal | undefined> {
  const holder = await rt.store.accounts.sessionHolder(userId, sessionId)
  if (!holder || !holder.isActive || holder.sessionRevokedAt !== null) return undefined
  return { userId: holder.userId, role: holder.role, email: holder.email, sessionId }
}

export async function principalForApiKey(rt: Runtime, key: string, now = Date.now()): Promise<Principal | undefined> {
  const hash = sha256(key)
  const holder = await rt.store.accounts.apiKeyHolder(hash)
  if (!holder || !sameHash(holder.keyHash, hash)) return undefined
  if (!holder.isActive || holder.revokedAt !== null || (holder.expiresAt !== null && holder.expiresAt <= now)) return undefined
  // Last use is kept to the minute: one write a minute per key, not one per request. It is
  // bookkeeping, never a reason to fail or delay the request.
  if ((holder.lastUsedAt ?? 0) < now - 60_000) rt.store.accounts.recordApiKeyUse(holder.keyId, now)
  return { userId: holder.userId, role: holder.role, email: holder.email, apiKeyId: holder.keyId }
}
