// Every CLI command, in the order `--help` lists them.
import type { Command } from './command'
import { healthcheck } from './healthcheck'
import { migrate } from './migrate'
import { serve } from './serve'

export const commands: Command[] = [serve, migrate, healthcheck]
