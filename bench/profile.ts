// Reads a `bun --cpu-prof` profile (.cpuprofile) of a server under load and prints its top frames
// by samples: self, inclusive, and inclusive per source file of the project (src/…), with each
// figure's share of the samples taken while serving, and each sample charged to the nearest
// project function on its stack (so that the charges add up to the whole). JSC's sampler records nothing while the
// thread idles, and the time it books to a sample includes the idle gap before it, so counts, not
// the profile's times, are what measure work here. Samples before the first one in src/auth/guard.ts
// (start-up, migrations: before the first authenticated request) are left out.
// `bun bench/profile.ts FILE.cpuprofile [--top N] [--requests N] [--interval-us N] [--callers TEXT]`:
// --callers also lists, for the samples whose running frame's name contains TEXT (`write
// [native]`), the nearest frame with a source file that called it. With
// --requests (the requests the process served meanwhile; bench/overhead.ts prints them with
// BENCH_PROFILE) each count is also printed as µs of its JS thread per request (samples ×
// the sampling interval, default 1000 µs as `bun --cpu-prof`'s, over the requests). That is the
// JS thread's time only: Bun's HTTP client thread, the garbage collector's threads and the kernel
// add to the process's CPU time besides.
import { parseArgs } from 'node:util'
import { printTable } from './support/streaming-load'

type CallFrame = { functionName: string; url: string; lineNumber: number }
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] }
type Profile = { nodes: ProfileNode[]; samples: number[] }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, requests: { type: 'string' }, 'interval-us': { type: 'string' }, callers: { type: 'string' } } })
const top = Number(values.top ?? 30)
const requests = values.requests ? Number(values.requests) : undefined
const intervalUs = Number(values['interval-us'] ?? 1000)
const root = `${process.cwd()}/`

const profile: Profile = JSON.parse(await Bun.file(positionals[0]!).text())
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parentOf = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)

/** A frame's name as the tables print it: the function and where it is (`file:line`, 1-based, as the profile's line is 0-based). */
function frameName({ functionName, url, lineNumber }: CallFrame) {
  const where = fileOf({ url }) ?? url.replace(/^.*node_modules\//, '')
  return `${functionName || '(anonymous)'} ${where ? `${where}${lineNumber >= 0 ? `:${lineNumber + 1}` : ''}` : '[native]'}`
}
function fileOf({ url }: Pick<CallFrame, 'url'>) {
  const path = url.replace(/^file:\/\//, '')
  return path.startsWith(root) ? path.slice(root.length) : undefined
}

/** The stack of a sample, leaf first. */
function stackOf(id: number): CallFrame[] {
  const frames: CallFrame[] = []
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) frames.push(byId.get(at)!.callFrame)
  return frames.filter((frame) => frame.functionName !== '(root)')
}

const stacks = profile.samples.map(stackOf)
const firstServing = stacks.findIndex((stack) => stack.some((frame) => fileOf(frame)?.startsWith('src/auth/guard')))
const serving = stacks.slice(Math.max(0, firstServing))

const self = new Map<string, number>()
const inclusive = new Map<string, number>()
const perFile = new Map<string, number>()
const callers = new Map<string, number>()
const charged = new Map<string, number>()
const chargedFiles = new Map<string, number>()
const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1)
for (const stack of serving) {
  if (stack.length === 0) continue
  add(self, frameName(stack[0]!))
  // Each frame, and each file, once per sample however deep it recurs.
  for (const name of new Set(stack.map(frameName))) add(inclusive, name)
  for (const file of new Set(stack.map(fileOf).filter((file) => file?.startsWith('src/')))) add(perFile, file!)
  const nearest = stack.find((frame) => fileOf(frame)?.startsWith('src/'))
  const nobody = '(no project frame: the event loop, Bun, libraries on their own)'
  add(charged, nearest ? frameName(nearest) : nobody)
  add(chargedFiles, nearest ? fileOf(nearest)! : nobody)
  if (values.callers && frameName(stack[0]!).includes(values.callers)) {
    const caller = stack.slice(1).find((frame) => frame.url !== '')
    add(callers, caller ? frameName(caller) : '(none: called from the event loop)')
  }
}

const share = (count: number) => `${((count / serving.length) * 100).toFixed(1)} %`
const perRequest = (count: number) => (requests === undefined ? [] : [((count * intervalUs) / requests).toFixed(1)])
const table = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}\n`)
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, top)
  printTable(['samples', 'share', ...(requests === undefined ? [] : ['µs/request']), 'frame'], rows.map(([name, count]) => [String(count), share(count), ...perRequest(count), name]))
}

console.log(`${positionals[0]}: ${serving.length} samples while serving (${profile.samples.length - serving.length} before the first authenticated request left out)`)
if (requests !== undefined) console.log(`${((serving.length * intervalUs) / requests).toFixed(0)} µs of the JS thread per request sampled, over ${requests} requests`)
table('Self (the frame itself was running)', self)
table('Inclusive (the frame was on the stack)', inclusive)
table('Inclusive per project file (src/…)', perFile)
table('Charged to the nearest project function (its own time and the library and native code it called; each sample once)', charged)
table('The same, per project file', chargedFiles)
if (values.callers) table(`Nearest callers with a source file of the samples running "${values.callers}"`, callers)
