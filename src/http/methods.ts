// Tells which other methods a path answers to, so a wrong method gets 405 rather than 404.
import type { AnyElysia } from 'elysia'

const patterns = new WeakMap<AnyElysia, { method: string; pattern: RegExp }[]>()

function compile(app: AnyElysia) {
  let list = patterns.get(app)
  if (!list) {
    // The CORS plugin answers OPTIONS on every path; that alone does not make a path known.
    list = app.routes.filter((route) => route.method !== 'OPTIONS').map((route) => ({
      method: route.method,
      pattern: new RegExp(
        '^' +
          route.path
            .replace(/\/+$/, '')
            .split('/')
            .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join('/') +
          '/?$',
      ),
    }))
    patterns.set(app, list)
  }
  return list
}

export function methodsOf(app: AnyElysia, method: string, path: string): string[] {
  const allowed = new Set<string>()
  for (const route of compile(app))
    if (route.method !== method && route.method !== 'ALL' && route.pattern.test(path)) allowed.add(route.method)
  return [...allowed]
}
