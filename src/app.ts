// Builds the whole HTTP application from its features, without listening.
// Tests call `app.handle(request)`; `serve` hands `app.fetch` to Bun.serve.
import { cors } from '@elysiajs/cors'
import { Elysia } from 'elysia'
import { auth } from './auth'
import { chat } from './chat'
import { docs } from './docs'
import { bodyLimit } from './http/body-limit'
import { errors } from './http/errors'
import { methodsOf } from './http/methods'
import { requestId } from './http/request-id'
import type { Runtime } from './runtime'

export function createApp(rt: Runtime) {
  const app: Elysia = new Elysia()
  app
    .use(errors((method, path) => methodsOf(app, method, path)))
    .use(requestId)
    .use(bodyLimit(rt.config.maxBodyBytes))
    .use(
      cors({
        origin: rt.config.corsOrigins,
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        allowedHeaders: ['Content-Type', 'Authorization'],
        exposeHeaders: ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'],
        credentials: true,
        maxAge: 600,
      }),
    )
    .use(docs)
    .use(auth(rt))
    .use(chat(rt))
  return app
}

export type App = ReturnType<typeof createApp>
