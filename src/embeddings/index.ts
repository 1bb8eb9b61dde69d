// OpenAI-compatible POST /v1/embeddings in front of the Ollama hosts (their /api/embed, through
// the shared pool): authenticated, limited in its own rate-limit group (RATE_LIMIT_EMBEDDINGS)
// and in the user's concurrent requests, logged and priced like a chat.
import { Elysia } from 'elysia'
import { authGuard } from '../auth/guard'
import type { Pool } from '../chat/pool'
import { budgets } from '../budgets'
import { concurrencyLimits } from '../concurrency'
import { rateLimits } from '../ratelimit'
import type { Runtime } from '../runtime'
import { embeddingRequest, type EmbeddingRequest } from './model'
import { createEmbeddings } from './service'

export const embeddings = (rt: Runtime, pool: Pool) =>
  new Elysia({ name: 'embeddings', prefix: '/v1' })
    .use(authGuard(rt))
    .use(rateLimits(rt))
    .use(concurrencyLimits(rt))
    .use(budgets(rt))
    .post(
      '/embeddings',
      async ({ body, request }) =>
        // A body already JSON, not an object for Elysia to serialise (see service.ts).
        new Response(await createEmbeddings(pool, body, request), { headers: { 'content-type': 'application/json' } }),
      {
        auth: true,
        rateLimit: 'embeddings',
        concurrencyLimit: true,
        budget: (body: EmbeddingRequest) => ({ model: body.model, maxTokens: 0 }),
        body: embeddingRequest,
        detail: {
          summary: 'Create embeddings (OpenAI-compatible): one vector per input text, as numbers or base64 float32',
          description:
            "Answers OpenAI's `{object: 'list', data: [{object: 'embedding', index, embedding}], model, usage}`, computed by Ollama's " +
            "`/api/embed` on a host that has the model. Inputs longer than the model's context are truncated by Ollama. " +
            "A model Ollama cannot embed with is a 400 with Ollama's reason; token arrays are refused (Ollama embeds text).",
          tags: ['embeddings'],
        },
      },
    )
