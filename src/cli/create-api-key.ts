// `create-api-key`: mints an API key for a user and prints it (once) on stdout, so that
// `KEY=$(ai-studio create-api-key --email …)` works; the note about it goes to stderr.
import { normaliseEmail } from '../auth/accounts'
import { InvalidField } from '../http/invalid-field'
import { KEY_RATE_LIMIT_GROUPS, SCOPES, type KeyRateLimitGroup, type KeyRateLimits, type Scope } from '../db/stores/keys'
import { HttpError } from '../http/errors'
import { MAX_RATE_LIMIT, MAX_TOKENS_PER_MINUTE } from '../keys/model'
import { createApiKey } from '../keys/service'
import { UsageError, type Command } from './command'
import { commandRuntime } from './runtime'

/** The flag that sets each field of a new key, to name it in a complaint. */
const FLAGS: Record<string, string> = { expiresAt: '--expires', rateLimits: '--rate-limit', tokensPerMinute: '--tokens-per-minute' }

/** A whole number from 1 to `most` written in decimal digits, else undefined. */
function count(text: string, most: number): number | undefined {
  const value = /^\d{1,10}$/.test(text.trim()) ? Number(text) : NaN
  return value >= 1 && value <= most ? value : undefined
}

/** `chat=20,embeddings=100` → { chat: 20, embeddings: 100 }. */
function rateLimitsOf(text: string): KeyRateLimits {
  const limits: KeyRateLimits = {}
  for (const pair of text.split(',')) {
    const [group, value = ''] = pair.split('=').map((part) => part.trim()) as [KeyRateLimitGroup, string?]
    const perMinute = count(value, MAX_RATE_LIMIT)
    if (!KEY_RATE_LIMIT_GROUPS.includes(group) || group in limits || perMinute === undefined)
      throw new UsageError(
        `--rate-limit takes group=requests per minute, comma-separated (such as chat=20,embeddings=100): groups among ${KEY_RATE_LIMIT_GROUPS.join(', ')}, each once, from 1 to ${MAX_RATE_LIMIT}`,
      )
    limits[group] = perMinute
  }
  return limits
}

export const createApiKeyCommand: Command = {
  name: 'create-api-key',
  summary: 'print a new API key for that user (shown once)',
  usage:
    'create-api-key --email E [--name N] [--scopes inference,read,manage,admin] [--expires 2027-01-31T00:00:00Z] ' +
    '[--rate-limit chat=20,embeddings=100] [--tokens-per-minute N]',
  options: {
    email: { type: 'string' },
    name: { type: 'string' },
    scopes: { type: 'string' },
    expires: { type: 'string' },
    'rate-limit': { type: 'string' },
    'tokens-per-minute': { type: 'string' },
  },
  async run(flags) {
    const { email: given, name = 'cli', scopes: listed, expires, ...limits } = flags as Record<string, string | undefined>
    if (given === undefined) throw new UsageError('--email is required')
    const scopes = listed?.split(',').map((scope) => scope.trim()) as Scope[] | undefined
    const unknown = scopes?.find((scope) => !SCOPES.includes(scope))
    if (unknown !== undefined || scopes?.length === 0) throw new UsageError(`--scopes takes a comma-separated list of ${SCOPES.join(', ')}`)
    const rateLimits = limits['rate-limit'] === undefined ? undefined : rateLimitsOf(limits['rate-limit'])
    const tokensPerMinute = limits['tokens-per-minute'] === undefined ? undefined : count(limits['tokens-per-minute'], MAX_TOKENS_PER_MINUTE)
    if (limits['tokens-per-minute'] !== undefined && tokensPerMinute === undefined)
      throw new UsageError(`--tokens-per-minute takes a whole number from 1 to ${MAX_TOKENS_PER_MINUTE}`)
    const rt = await commandRuntime()
    try {
      const email = normaliseEmail(given)
      const user = await rt.store.accounts.findUserByEmail(email)
      if (!user) {
        console.error(`no user has the email ${email}`)
        return 1
      }
      if (!user.isActive) {
        console.error(`${email} is deactivated; activate the account first`)
        return 1
      }
      // Made by the operator for the user: the user's own powers bound what it may be given.
      const maker = { userId: user.id, role: user.role, email: user.email }
      const key = await createApiKey(rt, maker, { name, scopes, expiresAt: expires, rateLimits, tokensPerMinute })
      console.log(key.key)
      console.error(`API key "${key.name}" (${key.prefix}…) created for ${email}; it is not shown again`)
    } catch (error) {
      if (error instanceof InvalidField) throw new UsageError(`${FLAGS[error.field] ?? `--${error.field}`} ${error.problem}`)
      if (error instanceof HttpError && error.options.code === 'missing_scope') throw new UsageError(`--scopes: ${error.message}`)
      throw error
    } finally {
      await rt.close()
    }
  },
}
