// Settings come from the environment, not from flags: a flag named after one (`serve --port 9000`)
// is answered with the variable to set instead of a bare "unknown option".
import { loadConfig } from '../config'

/** The variables loadConfig reads, learnt by letting it read an empty environment (so new ones are known at once). */
function settingNames(): Set<string> {
  const names = new Set<string>()
  const recorder = new Proxy({} as Record<string, string | undefined>, {
    get(_, name) {
      if (typeof name === 'string') names.add(name)
      return undefined
    },
  })
  try {
    loadConfig(recorder)
  } catch {
    // Defaults alone should always load; if not, the names read so far still help.
  }
  return names
}

const shellWord = (value: string) => (/^[\w.,:/@%+=-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`)

/**
 * For an unknown `--flag` that names a setting (`--port`, `--database-url`), the hint to use the
 * environment instead, with the value given if any: `--port: set PORT=9000 instead; …`.
 */
export function settingHint(flag: string, args: string[]): string | undefined {
  const name = flag.replace(/^--/, '').replaceAll('-', '_').toUpperCase()
  if (!flag.startsWith('--') || !settingNames().has(name)) return undefined
  const at = args.findIndex((arg) => arg === flag || arg.startsWith(`${flag}=`))
  const given = args[at]?.includes('=') ? args[at]!.slice(flag.length + 1) : args[at + 1]
  const value = given !== undefined && !given.startsWith('-') ? shellWord(given) : '<value>'
  return `${flag}: set ${name}=${value} instead; configuration comes from the environment (and .env)`
}
