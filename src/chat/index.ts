// The chat gateway's routes: OpenAI-compatible /v1/chat/completions (SSE or one JSON reply,
// answered from the response cache when it holds the answer), /v1/models, /v1/models/{id} and
// /v1/health, in front of the Ollama hosts of OLLAMA_BASE_URL.
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import { budgets } from '../budgets'
import { concurrencyLimits } from '../concurrency'
import { HttpError } from '../http/errors'
import { rateLimits } from '../ratelimit'
import type { Runtime } from '../runtime'
import { openCompletion } from './cached'
import { keepInConversation } from './conversation'
import { healthOf } from './health'
import { modelCatalog } from './models'
import { createPool, type Pool } from './pool'
import { chatRequest, health, modelList, modelObject, type ChatRequest } from './schemas'
import { screenMessages } from './screening'
import { checkChatRequest } from './to-ollama'
import { collectCompletion, startCompletion, streamCompletion } from './service'
import { chatSocketRoute } from './ws/route'
import { sseHeaders } from './relay'

/** The id in /v1/models/{id}: still percent-encoded (it may contain "/"), without a trailing slash. */
function modelIdOf(raw: string): string {
  try {
    return decodeURIComponent(raw).replace(/\/+$/, '')
  } catch {
    throw new HttpError(400, 'The model id is not valid percent-encoding', { param: 'id', code: 'invalid_value' })
  }
}


/** The upstream hosts (OLLAMA_BASE_URL, OPENAI_UPSTREAMS), one pool for every route that calls them; cut short at the shutdown deadline, stopped with the runtime. */
export function ollamaHosts(rt: Runtime): Pool {
  const pool = createPool({
    urls: rt.config.ollamaUrls,
    openai: rt.config.openaiUpstreams,
    timeoutMs: rt.config.upstreamTimeoutMs,
    maxRequestMs: rt.config.maxRequestSeconds * 1000,
    checkIntervalMs: rt.config.upstreamCheckIntervalMs,
  })
  rt.onCutShort(pool.cutShort)
  rt.onClose(pool.stop)
  return pool
}

export const chat = (rt: Runtime, pool: Pool) => {
  const models = modelCatalog(pool)

  return new Elysia({ name: 'chat', prefix: '/v1' })
    .use(authGuard(rt))
    .use(rateLimits(rt))
    .use(concurrencyLimits(rt))
    .use(budgets(rt))
    .use(chatSocketRoute)
    .post(
      '/chat/completions',
      async ({ body, request, principal, server, set }) => {
        // Refused before anything is kept (the conversation would store the request's messages).
        checkChatRequest(body)
        screenMessages(rt, { principal, request, server }, body.messages)
        const conversation = await keepInConversation(rt, principal.userId, body, request)
        if (conversation) set.headers['x-conversation-id'] = conversation.id
        let started
        try {
          started = await openCompletion(rt, body, request, principal.userId, set.headers, () =>
            startCompletion(pool, body, request, rt.config.maxOutputTokens),
          )
        } catch (error) {
          conversation?.notStarted(request.signal.aborted)
          throw error
        }
        conversation?.follow(started)
        if (!body.stream) {
          const reply = await collectCompletion(started)
          return conversation ? { ...reply, conversationId: conversation.id } : reply
        }
        return new Response(streamCompletion(started), { headers: sseHeaders })
      },
      {
        auth: true,
        rateLimit: 'chat',
        concurrencyLimit: true,
        budget: (body: ChatRequest) => ({ model: body.model, maxTokens: body.max_completion_tokens ?? body.max_tokens, choices: body.n }),
        body: chatRequest,
        detail: {
          summary: 'Create a chat completion (OpenAI-compatible; streams SSE when `stream` is true)',
          tags: ['chat'],
        },
      },
    )
    .get('/models', async () => ({ object: 'list' as const, data: await models.list() }), {
      auth: true,
      rateLimit: 'models',
      response: modelList,
      detail: { summary: 'List the models the Ollama hosts serve', tags: ['chat'] },
    })
    .get('/models/:id', ({ params }) => models.get(params.id), {
      auth: true,
      // Elysia decodes the id, and leaves null where its percent-encoding is broken.
      params: t.Object({ id: t.String({ error: 'the model id must be valid percent-encoding' }) }),
      rateLimit: 'models',
      response: modelObject,
      detail: {
        summary: 'Describe one model (its id may contain ":", and "/" as is or percent-encoded)',
        description:
          'The id is a model as `/v1/models` lists it (`llama3.2:latest`; a bare `llama3.2` means its `:latest` tag). ' +
          'Ids of models pulled from a registry contain "/" (`hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M`): send each "/" ' +
          "percent-encoded as `%2F` (as OpenAI's SDKs do) or as is " +
          '(`/v1/models/hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M`); both name the same model.',
        tags: ['chat'],
      },
    })
    // Ids with "/" in them (hf.co/org/model:tag) span several path segments.
    .get('/models/*', ({ params }) => models.get(modelIdOf(params['*'])), {
      auth: true,
      rateLimit: 'models',
      response: modelObject,
      detail: {
        // OpenAPI's path parameters span one segment, so this route cannot be described on its own.
        hide: true,
        description: 'GET /v1/models/{id} for an id with "/" sent as is: documented there, hidden here as its duplicate.',
      },
    })
    .get(
      '/health',
      async ({ headers, status }) => {
        // The guard has refused bad credentials; a caller who sent good ones sees each host in full.
        const report = await healthOf(pool, headers.authorization !== undefined || headers['x-api-key'] !== undefined)
        return report.status === 'unhealthy' ? status(503, report) : report
      },
      {
        auth: 'optional',
        // Each signed-in call checks every host afresh: limited like the model list.
        rateLimit: 'models',
        response: { 200: health, 503: health },
        detail: {
          summary: 'Reachability and latency of each Ollama host (503 when none is reachable); with credentials also its address, version and models',
          tags: ['chat'],
        },
      },
    )
}
