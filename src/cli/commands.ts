// Every CLI command, in the order `--help` lists them.
import { budgetCommand } from './budget'
import type { Command } from './command'
import { copyDataCommand } from './copy-data'
import { createApiKeyCommand } from './create-api-key'
import { createSuperuserCommand } from './create-superuser'
import { healthcheck } from './healthcheck'
import { migrate } from './migrate'
import { populateDashboardData } from './populate-dashboard-data'
import { serve } from './serve'
import { unblockCommand } from './unblock'

export const commands: Command[] = [
  serve,
  migrate,
  createSuperuserCommand,
  createApiKeyCommand,
  populateDashboardData,
  copyDataCommand,
  unblockCommand,
  budgetCommand,
  healthcheck,
]
