// `populate-dashboard-data`: fills the dashboard with realistic mock traffic (a progress bar
// on a terminal), or with --clear removes everything it ever generated and nothing else.
import { populate } from '../populate/generator'
import { clearGenerated } from '../populate/clear'
import { UsageError, type Command, type Flags } from './command'
import { progressBar } from './progress-bar'
import { commandRuntime } from './runtime'

function count(flags: Flags, name: string, fallback: number, max: number): number {
  const raw = flags[name]
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(String(raw)) || value < 1 || value > max) throw new UsageError(`--${name} must be an integer from 1 to ${max}`)
  return value
}

export const populateDashboardData: Command = {
  name: 'populate-dashboard-data',
  summary: 'generate realistic mock analytics (--clear removes all generated data)',
  usage: 'populate-dashboard-data [--days 14] [--users 3] [--requests N] [--clear]',
  options: {
    days: { type: 'string' },
    users: { type: 'string' },
    requests: { type: 'string' },
    clear: { type: 'boolean' },
  },
  async run(flags) {
    if (flags.clear && ['days', 'users', 'requests'].some((name) => flags[name] !== undefined))
      throw new UsageError('--clear removes what was generated and takes no other flags')
    const days = count(flags, 'days', 14, 366)
    const users = count(flags, 'users', 3, 10_000)
    const requests = count(flags, 'requests', days * users * 150, 100_000_000)
    const rt = await commandRuntime()
    try {
      if (flags.clear) {
        const removed = await clearGenerated(rt)
        console.log(
          `removed generated data: ${removed.requests} requests, ${removed.feedback} ratings, ${removed.threats} threats, ` +
            `${removed.sessions} sessions, ${removed.users} users` +
            (removed.kept ? `; kept ${removed.kept} generated users that have real activity (API keys, sign-ins, requests)` : ''),
        )
        return
      }
      const started = performance.now()
      const made = await populate(rt, rt.config.modelPrices, { days, users, requests }, progressBar('requests'))
      const seconds = ((performance.now() - started) / 1000).toFixed(1)
      console.log(
        `generated ${made.requests} requests over ${days} days for ${made.users} users (${made.sessions} sessions) in ${seconds}s`,
      )
    } finally {
      await rt.close()
    }
  },
}
