// Builds the whole HTTP application from its features, without listening.
// Tests call `app.handle(request)`; `serve` hands `app.fetch` to Bun.serve.
import { cors } from '@elysiajs/cors'
import { Elysia } from 'elysia'
import { admin } from './admin'
import { rootRedirect } from './admin/root-redirect'
import { adminUi } from './admin/ui'
import { auth } from './auth'
import { formPostPaths, type OAuthOverrides } from './auth/oauth'
import { chat, ollamaHosts } from './chat'
import { completions } from './completions'
import { conversations } from './conversations'
import { dashboard } from './dashboard'
import { docs } from './docs'
import { draining } from './draining'
import { embeddings } from './embeddings'
import { feedback } from './feedback'
import { ownBudgets } from './budgets'
import { bodyLimit } from './http/body-limit'
import { errors } from './http/errors'
import { jsonBodies } from './http/json-body'
import { describeBodyErrors } from './http/schema-errors'
import { methodsOf } from './http/methods'
import { metricsRoute } from './observability/endpoint'
import { metricsOf } from './observability/metrics'
import { watchGateway } from './observability/sources'
import { requestId } from './http/request-id'
import { securityHeaders } from './http/security-headers'
import { keys } from './keys'
import { anonymousLimit, keepAnonymousRow } from './ratelimit/anonymous'
import type { Runtime } from './runtime'
import { telemetry } from './telemetry'
import { floodWatch } from './threats/floods'
import { images } from './images'
import { responses } from './responses'
import { messages } from './messages'

export type AppOptions = {
  /** Tests point OAuth providers at a fake identity provider; never set in production. */
  oauth?: OAuthOverrides
}

export function createApp(rt: Runtime, options: AppOptions = {}) {
  const app: Elysia = new Elysia()
  const ollama = ollamaHosts(rt)
  const metrics = metricsOf(rt)
  if (metrics) watchGateway(rt, metrics, ollama)
  app
    .use(errors((method, path) => methodsOf(app, method, path)))
    .use(telemetry(rt, (request, facts, address) => keepAnonymousRow(rt, request, facts, address)))
    .use(requestId)
    .use(securityHeaders(rt.config.trustProxy))
    .use(draining(rt))
    .use(anonymousLimit(rt))
    .use(floodWatch(rt))
    .use(bodyLimit(rt.config.maxBodyBytes))
    .use(jsonBodies(rt.config.bodyTimeoutMs, formPostPaths, rt.onClose))
    .use(
      cors({
        origin: rt.config.corsOrigins,
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        // x-api-key and the anthropic-* headers: what Anthropic's clients send to /v1/messages from a browser.
        allowedHeaders: ['Content-Type', 'Authorization', 'X-Conversation-Id', 'X-Api-Key', 'Anthropic-Version', 'Anthropic-Beta', 'Anthropic-Dangerous-Direct-Browser-Access'],
        exposeHeaders: ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'X-RateLimit-Limit-Tokens', 'X-RateLimit-Remaining-Tokens', 'Retry-After', 'X-Cache', 'X-Conversation-Id'],
        credentials: true,
        maxAge: 600,
      }),
    )
    .use(metricsRoute(rt))
    .use(docs)
    .use(auth(rt, options.oauth))
    .use(keys(rt))
    .use(chat(rt, ollama))
    .use(completions(rt, ollama))
    .use(images(rt, ollama))
    .use(responses(rt, ollama))
    .use(messages(rt, ollama))
    .use(embeddings(rt, ollama))
    .use(conversations(rt))
    .use(dashboard(rt))
    .use(feedback(rt))
    .use(ownBudgets(rt))
    .use(admin(rt))
    .use(adminUi)
    .use(rootRedirect)
  describeBodyErrors(app)
  return app
}

export type App = ReturnType<typeof createApp>
