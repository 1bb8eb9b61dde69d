// The executable's entry point: the command line decides what runs.
// (No top-level await: the binary is compiled to bytecode, which needs a CommonJS-shaped entry.)
import { main } from './cli/main'

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
