// `unblock`: lifts the sign-in blocks on an account (from every address) and/or an address (on
// every account) before their 15 minutes pass. The running server applies it within a second.
// It never creates a database: run elsewhere, a request no server reads would look like success.
import { normaliseEmail } from '../auth/accounts'
import { addressKey, isAddress } from '../http/client-address'
import { InvalidField } from '../http/invalid-field'
import { requestUnblock } from '../threats/unblocks'
import { COMMAND_LINE, recordAudit } from '../audit/service'
import { UsageError, type Command } from './command'
import { commandRuntime, existingDatabase } from './runtime'

export const unblockCommand: Command = {
  name: 'unblock',
  summary: 'lift the sign-in blocks on an account or a client address (the server applies it within a second)',
  usage: 'unblock --email E | --address A',
  options: { email: { type: 'string' }, address: { type: 'string' } },
  async run(flags) {
    const { email: givenEmail, address } = flags as { email?: string; address?: string }
    if (givenEmail === undefined && address === undefined) throw new UsageError('--email or --address is required')
    if (address !== undefined && !isAddress(address)) throw new UsageError('--address must be an IPv4 or IPv6 address')
    let email: string | undefined
    try {
      email = givenEmail === undefined ? undefined : normaliseEmail(givenEmail)
    } catch (error) {
      if (error instanceof InvalidField) throw new UsageError(`--email ${error.problem}`)
      throw error
    }
    if (!existingDatabase()) return 1
    const rt = await commandRuntime()
    try {
      await requestUnblock(rt, { email: email ?? null, address: address ?? null })
      // Each block lifted is its own entry, so that filtering by target finds it.
      for (const [kind, target] of [['account', email], ['address', address && addressKey(address)]] as const)
        if (target) recordAudit(rt, COMMAND_LINE, { action: 'sign_in_block.lifted', targetType: 'sign_in_block', targetId: target, after: { [kind]: target } })
    } finally {
      await rt.close()
    }
    const what = [email && `account ${email}`, address && `address ${addressKey(address)}`].filter(Boolean).join(' and ')
    console.log(`sign-in blocks on ${what} are lifted; a running server applies this within a second`)
  },
}
