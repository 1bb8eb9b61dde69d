// Failed sign-ins, counted per client address, per account and per (address, account) pair.
// Past the brute_force threshold the monitor records a threat. Attempts are refused with 429
// from an address that failed too often, or on an account from the address that failed on it
// too often — never on an account from everywhere, so no one can lock its owner out. Without
// a known address (in-process calls) the account alone is counted. With REDIS_URL the counts
// are every replica's together (./redis-counter.ts).
import { createHmac } from 'node:crypto'
import { addressKey } from '../http/client-address'
import { HttpError } from '../http/errors'
import { looksLikeEmail } from '../http/text'
import type { Runtime } from '../runtime'
import { threatMonitorOf } from '.'
import { policies } from './monitor'

const threshold = policies.brute_force.thresholds[0]![0]

/**
 * How the counters name an account. What was typed as an email may be a password typed in the
 * wrong box: in this process's memory it is the email as typed, but a key in Redis (shared, and
 * listed by whoever runs it) names it by a digest keyed with the server's secret.
 */
const accountName = (rt: Runtime, email: string) =>
  rt.config.redis ? createHmac('sha256', rt.secretKey).update(email).digest('base64url').slice(0, 22) : email

const addrKey = (address: string) => `addr:${addressKey(address)}`
const pairKey = (address: string, account: string) => `pair:${addressKey(address)}|${account}`

const blockingKeys = (address: string | undefined, account: string) =>
  address === undefined ? [`account:${account}`] : [addrKey(address), pairKey(address, account)]

/**
 * Runs one sign-in attempt, or refuses it with 429 when its address or (address, account) failed
 * too often. Attempts whose password is still being checked (argon2 takes a while) count against
 * the threshold as well — on every replica: otherwise guesses sent all at once would each pass
 * the check before the first of them failed.
 */
export async function signInAttempt<T>(rt: Runtime, address: string | undefined, email: string, attempt: () => Promise<T>): Promise<T> {
  const release = await threatMonitorOf(rt).hold('brute_force', blockingKeys(address, accountName(rt, email)), threshold)
  if (!release)
    throw new HttpError(429, 'Too many failed sign-in attempts; try again later', {
      code: 'too_many_attempts',
      headers: { 'retry-after': String(policies.brute_force.windowMs / 1000) },
    })
  try {
    return await attempt()
  } finally {
    await release()
  }
}

/** Counts a failed sign-in; resolves once it is counted, so that the attempt lets go of its place only then. */
export async function recordFailedSignIn(rt: Runtime, address: string | undefined, email: string): Promise<void> {
  const threats = threatMonitorOf(rt)
  const account = accountName(rt, email)
  const observe = (key: string, detail: string) => threats.observe({ type: 'brute_force', key, address, detail })
  // The log shows only an email, for the same reason as accountName.
  const counted = [observe(`account:${account}`, `failed sign-ins on account ${looksLikeEmail(email) ? email : '(not an email address)'}`)]
  if (address !== undefined) {
    counted.push(observe(addrKey(address), `failed sign-ins from ${address}`))
    // The pair only throttles; the account's own count already records the threat.
    counted.push(threats.tally('brute_force', pairKey(address, account)))
  }
  await Promise.all(counted)
}

/**
 * Forgets the failures behind the blocks on an account — its own count, and the counts of the
 * addresses that failed on it (an address blocked by failures on this account blocks its owner
 * there too) — or on an address, on every account. With Redis this clears them for every
 * replica; it rejects if Redis cannot be reached (the unblock is then tried again).
 */
export async function liftSignInBlocks(rt: Runtime, { email, address }: { email: string | null; address: string | null }): Promise<void> {
  const account = email === null ? undefined : accountName(rt, email)
  const lifted = address === null ? undefined : addressKey(address)
  // The addresses whose own count the account's failures went into.
  const failedOnAccount = new Set<string>()
  const threats = threatMonitorOf(rt)
  try {
    await threats.forgetWhere('brute_force', (key) => {
      const [, pairAddress, pairAccount] = /^pair:([^|]*)\|(.*)$/.exec(key) ?? []
      if (account !== undefined && (key === `account:${account}` || pairAccount === account)) {
        if (pairAddress !== undefined) failedOnAccount.add(pairAddress)
        return true
      }
      return lifted !== undefined && (key === `addr:${lifted}` || pairAddress === lifted)
    })
  } finally {
    // Also when Redis failed the first pass: the addresses found in this replica's memory go now,
    // as its pairs are gone by the time the unblock is tried again.
    if (failedOnAccount.size) await threats.forgetWhere('brute_force', (key) => key.startsWith('addr:') && failedOnAccount.has(key.slice(5)))
  }
}

export async function recordSuccessfulSignIn(rt: Runtime, address: string | undefined, email: string): Promise<void> {
  const threats = threatMonitorOf(rt)
  const account = accountName(rt, email)
  await threats.forget('brute_force', address === undefined ? [`account:${account}`] : [`account:${account}`, pairKey(address, account)])
}
