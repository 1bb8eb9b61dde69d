// Failed sign-ins, counted per client address, per account and per (address, account) pair.
// Past the brute_force threshold the monitor records a threat. Attempts are refused with 429
// from an address that failed too often, or on an account from the address that failed on it
// too often — never on an account from everywhere, so no one can lock its owner out. Without
// a known address (in-process calls) the account alone is counted.
import { addressKey } from '../http/client-address'
import { HttpError } from '../http/errors'
import { looksLikeEmail } from '../http/text'
import type { Runtime } from '../runtime'
import { threatMonitorOf } from '.'
import { policies } from './monitor'

const threshold = policies.brute_force.thresholds[0]![0]

const addrKey = (address: string) => `addr:${addressKey(address)}`
const pairKey = (address: string, email: string) => `pair:${addressKey(address)}|${email}`

const blockingKeys = (address: string | undefined, email: string) =>
  address === undefined ? [`account:${email}`] : [addrKey(address), pairKey(address, email)]

/**
 * Attempts whose password is still being checked (argon2 takes a while), per blocking key. They
 * count against the threshold as well: otherwise guesses sent all at once would each pass the
 * check before the first of them failed.
 */
const checking = new WeakMap<Runtime, Map<string, number>>()

/** Runs one sign-in attempt, or refuses it with 429 when its address or (address, account) failed too often. */
export async function signInAttempt<T>(rt: Runtime, address: string | undefined, email: string, attempt: () => Promise<T>): Promise<T> {
  let pending = checking.get(rt)
  if (!pending) checking.set(rt, (pending = new Map()))
  const keys = blockingKeys(address, email)
  const threats = threatMonitorOf(rt)
  if (keys.some((key) => threats.count('brute_force', key) + (pending.get(key) ?? 0) >= threshold))
    throw new HttpError(429, 'Too many failed sign-in attempts; try again later', {
      code: 'too_many_attempts',
      headers: { 'retry-after': String(policies.brute_force.windowMs / 1000) },
    })
  for (const key of keys) pending.set(key, (pending.get(key) ?? 0) + 1)
  try {
    return await attempt()
  } finally {
    for (const key of keys) {
      const left = pending.get(key)! - 1
      if (left) pending.set(key, left)
      else pending.delete(key)
    }
  }
}

export function recordFailedSignIn(rt: Runtime, address: string | undefined, email: string): void {
  const threats = threatMonitorOf(rt)
  const observe = (key: string, detail: string) => threats.observe({ type: 'brute_force', key, address, detail })
  // What was typed as an email may be a password typed in the wrong box: the log shows only an email.
  observe(`account:${email}`, `failed sign-ins on account ${looksLikeEmail(email) ? email : '(not an email address)'}`)
  if (address === undefined) return
  observe(addrKey(address), `failed sign-ins from ${address}`)
  // The pair only throttles; the account's own count already records the threat.
  threats.tally('brute_force', pairKey(address, email))
}

/**
 * Forgets the failures behind the blocks on an account — its own count, and the counts of the
 * addresses that failed on it (an address blocked by failures on this account blocks its owner
 * there too) — or on an address, on every account.
 */
export function liftSignInBlocks(rt: Runtime, { email, address }: { email: string | null; address: string | null }): void {
  const lifted = address === null ? undefined : addressKey(address)
  // The addresses whose own count the account's failures went into.
  const failedOnAccount = new Set<string>()
  const threats = threatMonitorOf(rt)
  threats.forgetWhere('brute_force', (key) => {
    const [, pairAddress, pairEmail] = /^pair:([^|]*)\|(.*)$/.exec(key) ?? []
    if (email !== null && (key === `account:${email}` || pairEmail === email)) {
      if (pairAddress !== undefined) failedOnAccount.add(pairAddress)
      return true
    }
    return lifted !== undefined && (key === `addr:${lifted}` || pairAddress === lifted)
  })
  if (failedOnAccount.size) threats.forgetWhere('brute_force', (key) => key.startsWith('addr:') && failedOnAccount.has(key.slice(5)))
}

export function recordSuccessfulSignIn(rt: Runtime, address: string | undefined, email: string): void {
  const threats = threatMonitorOf(rt)
  threats.forget('brute_force', `account:${email}`)
  if (address !== undefined) threats.forget('brute_force', pairKey(address, email))
}
