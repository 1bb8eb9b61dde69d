// Failed sign-ins counted per client address and per account. Past the brute_force threshold
// the monitor records a threat, and further attempts from that address or on that account are
// refused with 429 until the window has passed.
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { policies } from './monitor'

const threshold = policies.brute_force.thresholds[0]![0]
/** Per account always; per address when the address is known (it is not for in-process calls). */
const keys = (address: string | undefined, email: string) =>
  address === undefined ? [`account:${email}`] : [`addr:${address}`, `account:${email}`]

export function assertSignInAllowed(rt: Runtime, address: string | undefined, email: string): void {
  if (keys(address, email).some((key) => rt.threats.count('brute_force', key) >= threshold))
    throw new HttpError(429, 'Too many failed sign-in attempts; try again later', {
      code: 'too_many_attempts',
      headers: { 'retry-after': String(policies.brute_force.windowMs / 1000) },
    })
}

export function recordFailedSignIn(rt: Runtime, address: string | undefined, email: string): void {
  for (const key of keys(address, email))
    rt.threats.observe({
      type: 'brute_force',
      key,
      address,
      detail: `failed sign-ins ${key.startsWith('addr:') ? `from ${address}` : `on account ${email}`}`,
    })
}

export function recordSuccessfulSignIn(rt: Runtime, email: string): void {
  rt.threats.forget('brute_force', `account:${email}`)
}
