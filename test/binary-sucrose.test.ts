// Elysia decides what to prepare per request (body, query, headers, set, server…) by reading
// each hook's and handler's source text. The binary's build flags reshape that text: with
// --minify-whitespace a method-shorthand hook (`async beforeHandle(ctx) {…}`) loses the line
// break sucrose splits its parameters from its body at, the analysis throws, prints a
// "[Sucrose] warning … please report" with a dump of source on the first request, and records
// that the hook uses nothing. So: compile test/support/sucrose-decisions.ts exactly as
// package.json's build script compiles src/index.ts, and expect the same decisions as from source.
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pkg from '../package.json'
import { run } from './support/process'

const root = join(import.meta.dir, '..')
const report = join(import.meta.dir, 'support', 'sucrose-decisions.ts')
const folder = mkdtempSync(join(tmpdir(), 'studio-sucrose-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

/** The build script's flags, with its entry and output swapped for the report's. */
function buildCommand(outfile: string): string[] {
  const words = pkg.scripts.build.split(/\s+/)
  expect(words.slice(0, 3)).toEqual(['bun', 'build', 'src/index.ts'])
  const flags = words.slice(3)
  const out = flags.indexOf('--outfile')
  expect(out).toBeGreaterThan(-1)
  flags.splice(out, 2)
  return [process.execPath, 'build', report, ...flags, '--outfile', outfile]
}

test('compiled with the build flags, Elysia decides the same for every hook and handler as from source', { timeout: 120_000 }, async () => {
  const binary = join(folder, 'sucrose-decisions')
  const build = await run(buildCommand(binary), { cwd: root })
  expect(build.code).toBe(0)
  const [fromSource, compiled] = await Promise.all([run([process.execPath, report], { cwd: folder }), run([binary], { cwd: folder })])
  expect(fromSource.code).toBe(0)
  expect(fromSource.stdout).toContain('app: ')
  const sourceLines = fromSource.stdout.split('\n')
  const compiledLines = compiled.stdout.split('\n')
  // The decisions that differ (and any warning Elysia printed), listed on their own first.
  expect(compiledLines.filter((line) => !sourceLines.includes(line)).map((line) => line.slice(0, 200))).toEqual([])
  expect(compiledLines).toEqual(sourceLines)
  expect(compiled.stderr).toBe('')
})
