// `copy-data --to <DATABASE_URL>`: moves an installation to another database, SQLite to
// PostgreSQL or back, by copying every table of the current one (DATABASE_URL) into an empty one,
// then printing each table's count in both. A progress bar on a terminal, a line per table
// elsewhere. The URLs' passwords are never printed.
import { resolve } from 'node:path'
import { ConfigError, loadConfig, type DatabaseLocation } from '../config'
import { copyData, type CopyProgress } from '../db/copy'
import { handleOf, openStore, type Opened } from '../db/open'
import { UsageError, type Command } from './command'
import { progressBar } from './progress-bar'

/** The database `--to` names, read as DATABASE_URL would be (and DATABASE_POOL_SIZE with it). */
function targetOf(url: string): DatabaseLocation {
  try {
    return loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE }).database
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message.replace(/^DATABASE_URL/, '--to'))
    throw error
  }
}

/** A location as it may be shown: a PostgreSQL URL without its password. */
function shown(location: DatabaseLocation): string {
  if (location.kind === 'sqlite') return `sqlite://${location.path}`
  const url = new URL(location.url)
  if (url.password) url.password = '***'
  if (location.schema) url.searchParams.set('schema', location.schema)
  return url.toString()
}

const same = (a: DatabaseLocation, b: DatabaseLocation) =>
  a.kind === 'sqlite' && b.kind === 'sqlite'
    ? a.path !== ':memory:' && resolve(a.path) === resolve(b.path)
    : a.kind === 'postgres' && b.kind === 'postgres' && a.url === b.url && (a.schema ?? 'public') === (b.schema ?? 'public')

/** Opens the target; a failure names --to, not DATABASE_URL (the source). */
async function openTarget(location: DatabaseLocation): Promise<Opened> {
  try {
    return await openStore(location)
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError('--to', error.message.replace(/^DATABASE_URL: expected /, ''))
    throw error
  }
}

/** A bar on a terminal; elsewhere one line per table copied. */
function reporter(): { progress: (state: CopyProgress) => void; failed: () => void } {
  if (process.stderr.isTTY) {
    const bar = progressBar('rows')
    let midLine = false
    return {
      progress(state) {
        bar(state.rows, state.total)
        midLine = state.rows < state.total
      },
      // An error ends the bar's line rather than joining it.
      failed: () => midLine && process.stderr.write('\n'),
    }
  }
  return {
    progress(state) {
      if (state.tableDone) console.error(`copied ${state.table}: ${state.tableRows.toLocaleString('en')} rows`)
    },
    failed() {},
  }
}

export const copyDataCommand: Command = {
  name: 'copy-data',
  summary: 'copy every table of this database (DATABASE_URL) into an empty one, SQLite or PostgreSQL',
  usage: 'copy-data --to <DATABASE_URL>',
  options: { to: { type: 'string' } },
  async run(flags) {
    if (typeof flags.to !== 'string' || !flags.to.trim()) throw new UsageError('--to <DATABASE_URL> names the database to copy into')
    const target = targetOf(flags.to.trim())
    const source = loadConfig().database
    if (same(source, target)) throw new UsageError('--to names the database being copied (DATABASE_URL): give an empty one')
    const from = await openStore(source)
    try {
      const to = await openTarget(target)
      try {
        const started = performance.now()
        const report = reporter()
        const counts = await copyData(handleOf(from.store), handleOf(to.store), report.progress).catch((error) => {
          report.failed()
          throw error
        })
        const seconds = ((performance.now() - started) / 1000).toFixed(1)
        const width = Math.max(5, ...counts.map((count) => count.table.length))
        const column = (value: string | number) => (typeof value === 'number' ? value.toLocaleString('en') : value).padStart(12)
        console.log(`copied ${shown(source)} to ${shown(target)} in ${seconds}s`)
        console.log(`${'table'.padEnd(width)}${column('source')}${column('target')}`)
        for (const count of counts) console.log(`${count.table.padEnd(width)}${column(count.source)}${column(count.target)}`)
      } finally {
        await to.store.close()
      }
    } finally {
      await from.store.close()
    }
  },
}
