// Password hashing with argon2id at OWASP's recommended cost (19 MiB, 2 passes), and a
// verification that takes the same time whether or not there is a hash to check against.
import { randomToken } from './crypto'

const options = { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 } as const

export const MIN_PASSWORD_LENGTH = 8
export const MAX_PASSWORD_LENGTH = 1024

export const hashPassword = (password: string) => Bun.password.hash(password, options)

let dummy: Promise<string> | undefined

/**
 * True when `password` matches `hash`. Without a hash (unknown email, account with no
 * password) it checks against a throw-away hash and answers false, so both cases cost the same.
 */
export async function verifyPassword(password: string, hash: string | null | undefined): Promise<boolean> {
  dummy ??= hashPassword(randomToken())
  try {
    const matches = await Bun.password.verify(password, hash ?? (await dummy))
    return matches && !!hash
  } catch {
    return false
  }
}
