// No import cycles between the top-level parts of src/ (each folder, and each file directly in
// src/ such as runtime.ts): a feature may build on another only if that one does not build on
// it, so each can be read, tested and replaced from the bottom up. `import type` counts too.
import { describe, expect, test } from 'bun:test'
import { Glob } from 'bun'
import { existsSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const src = resolve(import.meta.dir, '../src')

/** The module specifiers a source file imports or re-exports from, statically or dynamically. */
function importsOf(code: string): string[] {
  const statements = /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm
  const bare = /^\s*import\s*['"]([^'"]+)['"]/gm
  const dynamic = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g
  return [statements, bare, dynamic].flatMap((pattern) => [...code.matchAll(pattern)].map((match) => match[1]!))
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile()

/** The file in src/ that a relative specifier names; undefined for one outside src/ (package.json, migrations). */
function resolveInSrc(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier)
  if (!base.startsWith(`${src}/`)) return undefined
  const file = [base, `${base}.ts`, join(base, 'index.ts')].find(isFile)
  if (!file) throw new Error(`${relative(src, from)}: cannot resolve '${specifier}'`)
  return file
}

/** `auth` for src/auth/guard.ts, `runtime` for src/runtime.ts. */
const partOf = (file: string) => relative(src, file).split('/')[0]!.replace(/\.ts$/, '')

/** Which part imports which, with the files behind each dependency. */
async function partGraph() {
  const graph = new Map<string, Map<string, string[]>>()
  for await (const path of new Glob('**/*.ts').scan(src)) {
    const file = join(src, path)
    for (const specifier of importsOf(await Bun.file(file).text())) {
      const target = specifier.startsWith('.') ? resolveInSrc(file, specifier) : undefined
      if (!target) continue
      const [from, to] = [partOf(file), partOf(target)]
      if (from === to) continue
      const edges = graph.get(from) ?? graph.set(from, new Map()).get(from)!
      edges.set(to, [...(edges.get(to) ?? []), `${relative(src, file)} → ${relative(src, target)}`])
    }
  }
  return graph
}

function reachable(graph: Map<string, Map<string, string[]>>, start: string): Set<string> {
  const seen = new Set<string>()
  const visit = (part: string) => {
    for (const next of graph.get(part)?.keys() ?? []) if (!seen.has(next)) seen.add(next), visit(next)
  }
  visit(start)
  return seen
}

describe('imports between the parts of src/', () => {
  test('import statements are all read: type-only, re-exports, several lines, dynamic', () => {
    const code = [
      "import type { A } from '../a'",
      "import { b } from './b'",
      'import {\n  c,\n  type C,\n} from "../c"',
      "export { d } from '../d'",
      "export * from './e'",
      "import './f'",
      "const g = await import('../g')",
      "// a comment that says import nothing from 'here'",
      "export const PREFIX = './not-a-module'",
    ].join('\n')
    expect(importsOf(code).sort()).toEqual(['../a', '../c', '../d', '../g', './b', './e', './f'])
  })

  test('no cycles', async () => {
    const graph = await partGraph()
    // The scan sees the application: the app is built from the features.
    expect([...graph.get('app')!.keys()]).toEqual(expect.arrayContaining(['auth', 'chat', 'runtime']))
    const cycles: string[] = []
    for (const [part, edges] of graph) {
      for (const [next, files] of edges)
        if (reachable(graph, next).has(part)) cycles.push(`${part} → ${next} (${files.join(', ')})`)
    }
    // Each line: a dependency that lies on a cycle, with the imports behind it.
    expect(cycles).toEqual([])
  })
})
