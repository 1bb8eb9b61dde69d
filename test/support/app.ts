// Builds a fresh app over an empty database (./database.ts: SQLite in memory, or a PostgreSQL schema).
import { createApp, type AppOptions } from '../../src/app'
import { loadConfig } from '../../src/config'
import { startTracing } from '../../src/observability/tracing'
import { startRuntime } from '../../src/runtime'
import { testDatabaseUrl } from './database'

export const TEST_SECRET = 'test-secret-key-that-is-long-enough-0123456789'

export async function testApp(env: Record<string, string> = {}, options: AppOptions = {}) {
  const config = loadConfig({ DATABASE_URL: await testDatabaseUrl(), SECRET_KEY: TEST_SECRET, ...env })
  const rt = await startRuntime(config)
  await startTracing(rt)
  const app = createApp(rt, options)
  const call = (path: string, init: RequestInit & { json?: unknown; token?: string } = {}) => {
    const headers = new Headers(init.headers)
    const body = init.json !== undefined ? JSON.stringify(init.json) : init.body
    if (init.json !== undefined) headers.set('content-type', 'application/json')
    // A real client sends Content-Length; a Request built in memory does not, so add it.
    if (typeof body === 'string') headers.set('content-length', String(Buffer.byteLength(body)))
    if (init.token) headers.set('authorization', `Bearer ${init.token}`)
    return app.handle(
      new Request(`http://localhost${path}`, {
        ...init,
        headers,
        body,
      }),
    )
  }
  return { rt, app, call, close: () => rt.close() }
}

/** A runtime alone (no app) over an empty database, for the store contract tests. */
export async function testRuntime(env: Record<string, string> = {}) {
  return startRuntime(loadConfig({ DATABASE_URL: await testDatabaseUrl(), SECRET_KEY: TEST_SECRET, ...env }))
}
