// `create-api-key`: mints an API key for a user and prints it (once) on stdout, so that
// `KEY=$(ai-studio create-api-key --email …)` works; the note about it goes to stderr.
import { normaliseEmail } from '../auth/accounts'
import { InvalidField } from '../http/invalid-field'
import { createApiKey } from '../keys/service'
import { UsageError, type Command } from './command'
import { commandRuntime } from './runtime'

export const createApiKeyCommand: Command = {
  name: 'create-api-key',
  summary: 'print a new API key for that user (shown once)',
  usage: 'create-api-key --email E [--name N]',
  options: { email: { type: 'string' }, name: { type: 'string' } },
  async run(flags) {
    const { email: given, name = 'cli' } = flags as { email?: string; name?: string }
    if (given === undefined) throw new UsageError('--email is required')
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
      const key = await createApiKey(rt, user.id, { name })
      console.log(key.key)
      console.error(`API key "${key.name}" (${key.prefix}…) created for ${email}; it is not shown again`)
    } catch (error) {
      if (error instanceof InvalidField) throw new UsageError(`--${error.field} ${error.problem}`)
      throw error
    } finally {
      await rt.close()
    }
  },
}
