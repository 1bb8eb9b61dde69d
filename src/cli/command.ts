// The shape of a CLI command: its flags (node:util parseArgs options) and what it runs.
import type { ParseArgsConfig } from 'node:util'
import { normaliseEmail } from '../auth/accounts'
import { InvalidField } from '../http/invalid-field'

export type Flags = Record<string, string | boolean | undefined>

export type Command = {
  name: string
  summary: string
  usage: string
  options: NonNullable<ParseArgsConfig['options']>
  run(flags: Flags): Promise<number | void>
}

/** A mistake in how a command was called: printed with the usage line, exit code 2. */
export class UsageError extends Error {}

/** An `--email` flag as accounts store it (trimmed, lower-cased); a malformed one is a UsageError naming the flag. */
export function emailFlag(value: string): string {
  try {
    return normaliseEmail(value)
  } catch (error) {
    if (error instanceof InvalidField) throw new UsageError(`--email ${error.problem}`)
    throw error
  }
}
