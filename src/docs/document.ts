// The OpenAPI document of /swagger/json, made by @elysiajs/openapi's own generator from the
// routes' `t` schemas, with one correction. The generator names a request body's content types
// after the route's parse hooks and skips the hooks that are functions; the API's one body parser
// (src/http/json-body.ts, JSON only) is such a function, so every body came out with no content
// type at all: no schema, and no "Try it out" body in Swagger UI. The generator is therefore
// shown each route without a named parser as what it is: a route that takes JSON.
import { toOpenAPISchema } from '@elysiajs/openapi'
import type { AnyElysia } from 'elysia'

type Route = ReturnType<AnyElysia['getGlobalRoutes']>[number]
/** Elysia keeps `getGlobalRoutes` protected; plugins such as the generator call it all the same. */
type WithRoutes = { getGlobalRoutes(): Route[] }
type Documentation = { components?: { schemas?: Record<string, unknown> } & Record<string, unknown> } & Record<string, unknown>
type Exclude = Parameters<typeof toOpenAPISchema>[1]

const takesJson = (route: Route): Route => {
  const parsers = (route.hooks?.parse ?? []) as { fn: unknown }[]
  // A route that names its parser (Apple's form_post callback: 'urlencoded') is described by it.
  if (parsers.some((parser) => typeof parser.fn === 'string')) return route
  return { ...route, hooks: { ...route.hooks, parse: [{ fn: 'json' }] } } as Route
}

/**
 * The document of the routes `app` sees (once mounted, Elysia hands a plugin the whole app's route
 * list), rebuilt only when they change.
 */
export function openApiDocument(app: AnyElysia, documentation: Documentation, exclude: Exclude) {
  let built: { routes: Route[]; count: number; document: object } | undefined
  const build = (routes: Route[]) => {
    const view = Object.create(app, { getGlobalRoutes: { value: () => routes.map(takesJson) } }) as AnyElysia
    const { paths, components } = toOpenAPISchema(view, exclude)
    return {
      openapi: '3.1.2',
      ...documentation,
      paths,
      components: { ...documentation.components, schemas: { ...components.schemas, ...documentation.components?.schemas } },
    }
  }
  return () => {
    const routes = (app as unknown as WithRoutes).getGlobalRoutes()
    if (built?.routes !== routes || built.count !== routes.length) built = { routes, count: routes.length, document: build(routes) }
    return built.document
  }
}
