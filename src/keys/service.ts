// API keys: minting one (the secret is returned once and only its hash kept), listing and
// revoking a user's own keys.
import { parseDate } from '../http/dates'
import { iso } from '../http/schema'
import { randomToken, sha256 } from '../auth/crypto'
import { normaliseName } from '../auth/accounts'
import { API_KEY_PREFIX, mayAct, type Principal } from '../auth/principal'
import type { KeyLimits, KeyRateLimitGroup, KeyRateLimits, Scope, StoredApiKey } from '../db/stores/keys'
import { HttpError } from '../http/errors'
import { InvalidField } from '../http/invalid-field'
import type { Runtime } from '../runtime'
import { apiKeyView } from './model'
import { principalsChanged } from '../auth/principal-cache'
import { recordAudit, type AuditOrigin } from '../audit/service'

const PREFIX_LENGTH = 14
/** Keys that are not revoked, per user: the list stays short. */
export const MAX_KEYS = 50

/** What a new key may do when its request does not say. */
export const DEFAULT_SCOPES: Scope[] = ['inference', 'read']

type NewKeyInput = { name: string; expiresAt?: string; scopes?: Scope[]; models?: string[]; rateLimits?: KeyRateLimits; tokensPerMinute?: number }

/**
 * Mints a key for the caller's user. A key can hold only scopes its maker holds (a key with
 * `manage` but not `admin` cannot mint an admin key), and `admin` only on an admin's account;
 * a key made by a key is limited to its maker's models, expires no later and has limits at least
 * as strict as its maker's own.
 */
export async function createApiKey(rt: Runtime, maker: Principal, input: NewKeyInput, origin: AuditOrigin = makerOrigin(maker), now = Date.now()) {
  const name = normaliseName(input.name)
  if (!name) throw new InvalidField('name', 'must not be blank')
  const expiresAt = input.expiresAt === undefined ? null : parseDate(input.expiresAt)
  if (expiresAt !== null && !(expiresAt > now))
    throw new InvalidField('expiresAt', 'must be a time in the future')
  const scopes = input.scopes ?? DEFAULT_SCOPES
  const beyond = scopes.find((scope) => !mayAct(maker, scope))
  if (beyond)
    throw new HttpError(403, `A key can be given only scopes you hold: you lack \`${beyond}\``, { param: 'scopes', code: 'missing_scope' })
  let models = input.models?.map((model) => model.trim()).filter(Boolean) ?? null
  if (models?.length === 0) throw new InvalidField('models', 'must name at least one model')
  // A key made by a limited key is limited as much: its models among its maker's, its expiry no later.
  if (maker.models) {
    if (models === null) models = [...maker.models]
    else if (models.some((model) => !maker.models!.includes(model)))
      throw new HttpError(403, 'A key can be given only models you may use yourself', { param: 'models', code: 'model_not_allowed' })
  }
  let expires = expiresAt
  if (maker.expiresAt !== undefined) {
    if (expires === null) expires = maker.expiresAt
    else if (expires > maker.expiresAt)
      throw new HttpError(403, 'A key cannot outlive the key that makes it', { param: 'expiresAt', code: 'expiry_not_allowed' })
  }
  const limits = limitsWithin(maker.keyLimits, { rateLimits: input.rateLimits ?? null, tokensPerMinute: input.tokensPerMinute ?? null })
  const key = `${API_KEY_PREFIX}${randomToken()}`
  const stored = await rt.store.keys.insertBelowLimit(
    { userId: maker.userId, name, prefix: key.slice(0, PREFIX_LENGTH), keyHash: sha256(key), expiresAt: expires, scopes, models, ...limits },
    MAX_KEYS,
    now,
  )
  if (!stored)
    throw new HttpError(409, `A user can have at most ${MAX_KEYS} API keys; revoke one to make another`, { code: 'too_many_keys' })
  recordAudit(rt, origin, { action: 'api_key.created', targetType: 'api_key', targetId: stored.id, after: auditedKey(stored) })
  return { ...apiKeyView(stored), key }
}

/**
 * The limits of a key made by a key with limits of its own: each of the maker's limits, or a
 * stricter one. A minted key cannot outrun the key that made it (nor, then, a leaked key's copy).
 */
function limitsWithin(maker: KeyLimits | undefined, asked: KeyLimits): KeyLimits {
  if (!maker) return asked
  const beyond = (field: string, most: number) =>
    new HttpError(403, `A key can be given only limits as strict as its maker's: ${field} at most ${most}`, { param: field, code: 'limit_not_allowed' })
  const rateLimits: KeyRateLimits = { ...maker.rateLimits, ...asked.rateLimits }
  for (const [group, most] of Object.entries(maker.rateLimits ?? {}) as [KeyRateLimitGroup, number][])
    if (rateLimits[group]! > most) throw beyond(`rateLimits.${group}`, most)
  const { tokensPerMinute: most } = maker
  if (most !== null && asked.tokensPerMinute !== null && asked.tokensPerMinute > most) throw beyond('tokensPerMinute', most)
  return { rateLimits: Object.keys(rateLimits).length ? rateLimits : null, tokensPerMinute: asked.tokensPerMinute ?? most }
}

/** The maker as the actor, when no request is at hand (the command line). */
const makerOrigin = (maker: Principal): AuditOrigin => ({ actorUserId: maker.userId, actorEmail: maker.email || null, ip: null, requestId: null })

/** What the audit trail keeps of a key: never its secret nor its hash. */
const auditedKey = (key: StoredApiKey) => ({
  userId: key.userId,
  name: key.name,
  prefix: key.prefix,
  scopes: key.scopes,
  models: key.models,
  expiresAt: iso(key.expiresAt),
  rateLimits: key.rateLimits,
  tokensPerMinute: key.tokensPerMinute,
})

export async function listKeys(rt: Runtime, userId: string) {
  return { data: (await rt.store.keys.listLive(userId)).map(apiKeyView) }
}

export async function revokeKey(rt: Runtime, userId: string, id: string, origin: AuditOrigin): Promise<void> {
  const key = (await rt.store.keys.listLive(userId)).find((live) => live.id === id)
  if (!key || !(await rt.store.keys.revoke(userId, id, Date.now())))
    throw new HttpError(404, 'You have no API key with this id', { code: 'api_key_not_found' })
  await principalsChanged(rt, userId)
  recordAudit(rt, origin, { action: 'api_key.revoked', targetType: 'api_key', targetId: id, before: { ...auditedKey(key), revoked: false }, after: { revoked: true } })
}

/**
 * Sets an API key's own limits (an admin's act): those given, null clearing one; they apply from
 * its next request. The audit entry has them before and after.
 */
export async function setKeyLimits(rt: Runtime, origin: AuditOrigin, keyId: string, change: Partial<KeyLimits>): Promise<KeyLimits> {
  const set = await rt.store.keys.setLimits(keyId, change)
  if (!set) throw new HttpError(404, 'No API key has this id', { code: 'api_key_not_found' })
  await principalsChanged(rt, set.userId)
  const after = { ...set.before, ...change }
  recordAudit(rt, origin, { action: 'api_key.limits_set', targetType: 'api_key', targetId: keyId, before: set.before, after: { ...after, userId: set.userId } })
  return after
}
