// The shape of a CLI command: its flags (node:util parseArgs options) and what it runs.
import type { ParseArgsConfig } from 'node:util'

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
