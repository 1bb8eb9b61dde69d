// `create-api-key`: mints an API key for a user and prints it (once) on stdout, so that
// `KEY=$(ai-studio create-api-key --email …)` works; the note about it goes to stderr.
import { normaliseEmail } from '../auth/accounts'
import { InvalidField } from '../http/invalid-field'
import { SCOPES, type Scope } from '../db/stores/keys'
import { HttpError } from '../http/errors'
import { createApiKey } from '../keys/service'
import { UsageError, type Command } from './command'
import { commandRuntime } from './runtime'

export const createApiKeyCommand: Command = {
  name: 'create-api-key',
  summary: 'print a new API key for that user (shown once)',
  usage: 'create-api-key --email E [--name N] [--scopes inference,read,manage,admin]',
  options: { email: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'string' } },
  async run(flags) {
    const { email: given, name = 'cli', scopes: listed } = flags as { email?: string; name?: string; scopes?: string }
    if (given === undefined) throw new UsageError('--email is required')
    const scopes = listed?.split(',').map((scope) => scope.trim()) as Scope[] | undefined
    const unknown = scopes?.find((scope) => !SCOPES.includes(scope))
    if (unknown !== undefined || scopes?.length === 0) throw new UsageError(`--scopes takes a comma-separated list of ${SCOPES.join(', ')}`)
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
      const key = await createApiKey(rt, { userId: user.id, role: user.role, email: user.email }, { name, scopes })
      console.log(key.key)
      console.error(`API key "${key.name}" (${key.prefix}…) created for ${email}; it is not shown again`)
    } catch (error) {
      if (error instanceof InvalidField) throw new UsageError(`--${error.field} ${error.problem}`)
      if (error instanceof HttpError && error.options.code === 'missing_scope') throw new UsageError(`--scopes: ${error.message}`)
      throw error
    } finally {
      await rt.close()
    }
  },
}
