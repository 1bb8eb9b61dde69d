// The executable's entry point: the command line decides what runs.
import { main } from './cli/main'

process.exitCode = await main(process.argv.slice(2))
