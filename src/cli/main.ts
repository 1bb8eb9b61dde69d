// Parses the command line, runs the chosen command, and maps failures to exit codes:
// 2 for a usage mistake, 1 for a configuration or runtime failure.
import { parseArgs } from 'node:util'
import pkg from '../../package.json'
import { ConfigError } from '../config'
import { UsageError, type Command } from './command'
import { commands } from './commands'
import { settingHint } from './setting-flags'

const name = 'ai-studio'

function help(): string {
  const width = Math.max(...commands.map((command) => command.usage.length))
  return [
    `Usage: ${name} [command] [flags]   (no command = serve)`,
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.usage.padEnd(width)}  ${command.summary}`),
    '',
    'Flags: --help shows this text, --version (-v) the version. Configuration comes from the environment',
    '(and .env), not from flags: PORT=9000 ai-studio serve. See README.md.',
  ].join('\n')
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv
  if (first === '--help' || first === '-h' || first === 'help') {
    console.log(help())
    return 0
  }
  if (first === '--version' || first === '-v') {
    console.log(`${name} ${pkg.version}`)
    return 0
  }
  const commandName = first === undefined || first.startsWith('-') ? 'serve' : first
  const command: Command | undefined = commands.find((candidate) => candidate.name === commandName)
  const args = first === undefined || first.startsWith('-') ? argv : rest
  try {
    if (!command) throw new UsageError(`unknown command "${commandName}"`)
    if (args.includes('--help') || args.includes('-h')) {
      console.log(`Usage: ${name} ${command.usage}\n\n${command.summary}`)
      return 0
    }
    let values: Record<string, string | boolean | undefined>
    try {
      values = parseArgs({ args, options: command.options, strict: true, allowPositionals: false }).values as typeof values
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!
      const unknownFlag = /^Unknown option '([^']+)'/.exec(message)?.[1]
      throw new UsageError((unknownFlag && settingHint(unknownFlag, args)) || message)
    }
    return (await command.run(values)) ?? 0
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${name}: ${error.message}`)
      console.error(`usage: ${name} ${command?.usage ?? '<command> [flags]'}   (${name} --help lists commands)`)
      return 2
    }
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`)
      return 1
    }
    console.error(`${name}: ${(error as Error).message}`)
    return 1
  }
}
