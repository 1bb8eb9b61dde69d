// Prints what Elysia's static analysis ("sucrose") decides for every hook and handler of the
// app: which parts of the context (body, query, headers, set, server…) each one uses and so
// which ones Elysia prepares per request. Sucrose reads each function's source text, so a build
// that reshapes that text can change the decisions; test/binary-sucrose.test.ts runs this file
// from source and compiled with the binary's build flags, and expects the same lines.
// (No top-level await: it is compiled to bytecode like src/index.ts.)
import { sucrose } from 'elysia/sucrose'
import { createApp } from '../../src/app'
import { loadConfig } from '../../src/config'
import { startRuntime } from '../../src/runtime'

type Hook = ((...args: never[]) => unknown) | { fn?: unknown }
type Inference = ReturnType<typeof sucrose>

const events = ['request', 'parse', 'transform', 'beforeHandle', 'afterHandle', 'mapResponse', 'afterResponse', 'error'] as const
const used = (inference: Inference) =>
  Object.entries(inference)
    .filter(([, value]) => value)
    .map(([key]) => key)
    .join(',') || 'nothing'
const decide = (fn: unknown) => used(sucrose({ handler: fn as never }))
const fnOf = (hook: Hook) => (typeof hook === 'function' ? hook : hook.fn)

function hookLines(where: string, hooks: Record<string, unknown> | undefined): string[] {
  const lines: string[] = []
  for (const event of events) {
    const list = hooks?.[event]
    if (!list) continue
    ;(Array.isArray(list) ? list : [list]).forEach((hook: Hook, i) => {
      const fn = fnOf(hook)
      if (typeof fn === 'function') lines.push(`${where} ${event}[${i}]: ${decide(fn)}`)
    })
  }
  return lines
}

async function report() {
  const rt = await startRuntime(loadConfig({ DATABASE_URL: 'sqlite://:memory:', SECRET_KEY: 'sucrose-decisions-0123456789abcdefghijklmnop' }))
  const app = createApp(rt) as unknown as {
    inference: Inference
    event: Record<string, unknown>
    routes: { method: string; path: string; handler: unknown; hooks: Record<string, unknown> }[]
  }
  const lines = [`app: ${used(app.inference)}`, ...hookLines('app', app.event)]
  for (const route of app.routes) {
    const where = `${route.method} ${route.path}`
    lines.push(`${where}: ${used(sucrose({ handler: route.handler as never, ...route.hooks }))}`)
    lines.push(...hookLines(where, route.hooks))
    if (typeof route.handler === 'function') lines.push(`${where} handler: ${decide(route.handler)}`)
  }
  console.log(lines.join('\n'))
  await rt.close()
}

report().then(() => process.exit(0))
