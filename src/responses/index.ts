// OpenAI's Responses API in front of the Ollama hosts: POST /v1/responses (one `response` object,
// or its SSE stream), GET and DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items. Each
// request runs through the chat pipeline (./service.ts), so it is logged, limited and cancelled
// as /v1/chat/completions is; errors are in OpenAI's envelope (every /v1 path's).
import { Elysia } from 'elysia'
import { authGuard } from '../auth/guard'
import type { Pool } from '../chat/pool'
import { budgets } from '../budgets'
import { concurrencyLimits } from '../concurrency'
import { rateLimits } from '../ratelimit'
import type { Runtime } from '../runtime'
import { createResponseRequest, inputItemsQuery, responseIdParams, type CreateResponseRequest } from './schemas'
import { createResponse, deleteResponse, inputItemsPage, ownResponse } from './service'
import { sseHeaders } from '../chat/relay'


export const responses = (rt: Runtime, pool: Pool) =>
  new Elysia({ name: 'responses', prefix: '/v1/responses' })
    .use(authGuard(rt))
    .use(rateLimits(rt))
    .use(concurrencyLimits(rt))
    .use(budgets(rt))
    .post(
      '',
      async ({ body, request, principal, server, set }) => {
        const answer = await createResponse(rt, pool, body, { principal, request, server, headers: set.headers })
        return answer instanceof ReadableStream ? new Response(answer, { headers: sseHeaders }) : answer
      },
      {
        auth: true,
        rateLimit: 'chat',
        concurrencyLimit: true,
        budget: (body: CreateResponseRequest) => ({ model: body.model, maxTokens: body.max_output_tokens }),
        body: createResponseRequest,
        detail: {
          summary: "Create a model response (OpenAI's Responses API; streams its events as SSE when `stream` is true)",
          description:
            'Runs as a chat completion on the Ollama hosts: `input` (a string, or messages, function_call and function_call_output items), ' +
            '`instructions` (a system message), function `tools`, `text.format` (json_schema, json_object), `reasoning.effort` (thinking). ' +
            'History comes from `previous_response_id` (the stored chain) or `conversation` (one of your conversations, which keeps the new turn). ' +
            'With `store` (default true) the response is kept until you delete it, for GET and for chaining.',
          tags: ['responses'],
        },
      },
    )
    .get('/:id', async ({ params, principal }) => (await ownResponse(rt, principal.userId, params.id)).response, {
      auth: true,
      rateLimit: 'models',
      params: responseIdParams,
      detail: { summary: 'A stored response of yours (404 for any other id)', tags: ['responses'] },
    })
    .delete('/:id', ({ params, principal }) => deleteResponse(rt, principal.userId, params.id), {
      auth: true,
      rateLimit: 'models',
      params: responseIdParams,
      detail: { summary: 'Delete a stored response of yours (responses chained to it keep their own turns)', tags: ['responses'] },
    })
    .get('/:id/input_items', ({ params, query, principal }) => inputItemsPage(rt, principal.userId, params.id, query), {
      auth: true,
      rateLimit: 'models',
      params: responseIdParams,
      query: inputItemsQuery,
      detail: { summary: "A page of a stored response's input items (newest first; `order=asc` for oldest first)", tags: ['responses'] },
    })
