// Builds dist/ai-studio once per test run (every test file runs in the same process).
import { join } from 'node:path'
import { run } from './process'

const root = join(import.meta.dir, '..', '..')
let built: Promise<string> | undefined

export function buildBinary(): Promise<string> {
  built ??= run(['bun', 'run', 'build'], { cwd: root, env: { PATH: `${process.env.PATH}` } }).then((build) => {
    if (build.code !== 0) throw new Error(`build failed:\n${build.stderr}`)
    return join(root, 'dist', 'ai-studio')
  })
  return built
}
