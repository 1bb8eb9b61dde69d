// `create-superuser`: creates an admin, or promotes (and re-activates) the account with that
// email. Missing flags are asked for on a terminal; elsewhere they are a usage error.
import { createSuperuser } from '../auth/accounts'
import { InvalidField } from '../http/invalid-field'
import { interactive, withQuestions, type Ask } from './ask'
import { UsageError, type Command } from './command'
import { commandRuntime } from './runtime'

async function askPassword(ask: Ask): Promise<string> {
  const password = await ask('Password: ', { secret: true })
  if (password !== (await ask('Password (again): ', { secret: true }))) throw new UsageError('the two passwords differ')
  return password
}

export const createSuperuserCommand: Command = {
  name: 'create-superuser',
  summary: 'create an admin, or promote the account with that email (asks on a terminal)',
  usage: 'create-superuser --email E --password P [--name N]',
  options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
  async run(flags) {
    const { name } = flags as { name?: string }
    let { email, password } = flags as { email?: string; password?: string }
    if (email === undefined || password === undefined) {
      if (!interactive()) throw new UsageError('--email and --password are required when not run on a terminal')
      ;[email, password] = await withQuestions(async (ask) => [
        email ?? (await ask('Email: ')),
        password ?? (await askPassword(ask)),
      ])
    }
    const rt = await commandRuntime()
    try {
      const { user, created, selfRegistered } = await createSuperuser(rt, { email, password, name })
      if (created) console.log(`created admin ${user.email}`)
      else {
        console.log(`${user.email} is now an active admin with the given password; its earlier sessions and API keys are revoked`)
        if (selfRegistered)
          console.warn(
            `warning: ${user.email} was registered through the API, and nobody has proven that address: ` +
              'whoever registered it may not be its owner. Check who uses this account.',
          )
      }
    } catch (error) {
      if (error instanceof InvalidField) throw new UsageError(`--${error.field} ${error.problem}`)
      throw error
    } finally {
      await rt.close()
    }
  },
}
