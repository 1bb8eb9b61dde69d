// `unblock`: lifts the sign-in blocks on an account (from every address) and/or an address (on
// every account) before their 15 minutes pass. The running server applies it within a second.
import { canonicalEmail } from '../auth/accounts'
import { addressKey } from '../http/client-address'
import { requestUnblock } from '../threats/unblocks'
import { UsageError, type Command } from './command'
import { commandRuntime } from './runtime'

const addressShape = /^[0-9a-fA-F:.[\]%]+$/

export const unblockCommand: Command = {
  name: 'unblock',
  summary: 'lift the sign-in blocks on an account or a client address (the server applies it within a second)',
  usage: 'unblock --email E | --address A',
  options: { email: { type: 'string' }, address: { type: 'string' } },
  async run(flags) {
    const { email, address } = flags as { email?: string; address?: string }
    if (email === undefined && address === undefined) throw new UsageError('--email or --address is required')
    if (address !== undefined && !addressShape.test(address)) throw new UsageError('--address must be an IPv4 or IPv6 address')
    const rt = await commandRuntime()
    try {
      await requestUnblock(rt.db, { email: email === undefined ? null : canonicalEmail(email), address: address ?? null })
    } finally {
      await rt.close()
    }
    const what = [email && `account ${canonicalEmail(email)}`, address && `address ${addressKey(address)}`].filter(Boolean).join(' and ')
    console.log(`sign-in blocks on ${what} are lifted; a running server applies this within a second`)
  },
}
