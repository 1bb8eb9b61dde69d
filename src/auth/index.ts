// The accounts feature: health, and (growing) sign-in, tokens, OAuth and API keys.
import { Elysia, t } from 'elysia'
import type { Runtime } from '../runtime'

export const auth = (_rt: Runtime) =>
  new Elysia({ name: 'auth', prefix: '/api/auth' }).get(
    '/health',
    () => ({ status: 'healthy' as const, timestamp: new Date().toISOString() }),
    {
      response: t.Object({ status: t.Literal('healthy'), timestamp: t.String({ format: 'date-time' }) }),
      detail: { summary: 'Health check', tags: ['auth'], security: [] },
    },
  )
