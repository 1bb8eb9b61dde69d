// OpenAI's legacy text completions, /v1/completions (SSE or one JSON reply), through Ollama's
// generate on the shared pool of Ollama hosts: code-completion plug-ins send a prompt and a
// `suffix` to fill in the middle. Guarded, limited and logged as the chat route is.
import { Elysia } from 'elysia'
import { authGuard } from '../auth/guard'
import type { Pool } from '../chat/pool'
import { budgets } from '../budgets'
import { concurrencyLimits } from '../concurrency'
import { rateLimits } from '../ratelimit'
import type { Runtime } from '../runtime'
import { completionRequest, type CompletionRequest } from './model'
import { collectTextCompletion, startTextCompletion, streamTextCompletion } from './service'
import { sseHeaders } from '../chat/relay'


export const completions = (rt: Runtime, pool: Pool) =>
  new Elysia({ name: 'completions', prefix: '/v1' })
    .use(authGuard(rt))
    .use(rateLimits(rt))
    .use(concurrencyLimits(rt))
    .use(budgets(rt))
    .post(
      '/completions',
      async ({ body, request }) => {
        const started = await startTextCompletion(pool, body, request, rt.config.maxOutputTokens)
        if (!body.stream) return collectTextCompletion(started)
        return new Response(streamTextCompletion(started), { headers: sseHeaders })
      },
      {
        auth: true,
        rateLimit: 'chat',
        concurrencyLimit: true,
        budget: (body: CompletionRequest) => ({ model: body.model, maxTokens: body.max_tokens }),
        body: completionRequest,
        detail: {
          summary: 'Create a text completion (OpenAI legacy completions; `suffix` fills in the middle; streams SSE when `stream` is true)',
          description:
            'Through Ollama\'s generate. `prompt` is one string (or an array of one); token ids, several prompts, `echo` and `best_of` > 1 are refused with a 400. `logprobs` (0–5) answers OpenAI\'s `{tokens, token_logprobs, top_logprobs, text_offset}`.',
          tags: ['chat'],
        },
      },
    )
