// Failed sign-ins, counted per client address, per account and per (address, account) pair.
// Past the brute_force threshold the monitor records a threat. Attempts are refused with 429
// from an address that failed too often, or on an account from the address that failed on it
// too often — never on an account from everywhere, so no one can lock its owner out. Without
// a known address (in-process calls) the account alone is counted.
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { policies } from './monitor'

const threshold = policies.brute_force.thresholds[0]![0]

const blockingKeys = (address: string | undefined, email: string) =>
  address === undefined ? [`account:${email}`] : [`addr:${address}`, `pair:${address}|${email}`]

export function assertSignInAllowed(rt: Runtime, address: string | undefined, email: string): void {
  if (blockingKeys(address, email).some((key) => rt.threats.count('brute_force', key) >= threshold))
    throw new HttpError(429, 'Too many failed sign-in attempts; try again later', {
      code: 'too_many_attempts',
      headers: { 'retry-after': String(policies.brute_force.windowMs / 1000) },
    })
}

export function recordFailedSignIn(rt: Runtime, address: string | undefined, email: string): void {
  const observe = (key: string, detail: string) => rt.threats.observe({ type: 'brute_force', key, address, detail })
  observe(`account:${email}`, `failed sign-ins on account ${email}`)
  if (address === undefined) return
  observe(`addr:${address}`, `failed sign-ins from ${address}`)
  // The pair only throttles; the account's own count already records the threat.
  rt.threats.tally('brute_force', `pair:${address}|${email}`)
}

export function recordSuccessfulSignIn(rt: Runtime, address: string | undefined, email: string): void {
  rt.threats.forget('brute_force', `account:${email}`)
  if (address !== undefined) rt.threats.forget('brute_force', `pair:${address}|${email}`)
}
