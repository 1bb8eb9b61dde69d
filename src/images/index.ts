// POST /v1/images/generations: OpenAI's image request, answered with base64 images (`b64_json`)
// made by a server that speaks OpenAI's API or by an Ollama host that still serves image models
// (./service.ts). With `stream: true`, an SSE stream: Ollama's progress as
// `image_generation.progress` events (ours: {type, image_index, completed, total}), then each
// image as OpenAI's `image_generation.completed` event.
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import { Aborted } from '../chat/aborted'
import { clientGone, outcomeOf } from '../chat/failures'
import { modelCatalog } from '../chat/models'
import type { Pool } from '../chat/pool'
import { budgets } from '../budgets'
import { concurrencyLimits } from '../concurrency'
import { errorBody, HttpError } from '../http/errors'
import { integer, nullable } from '../http/schema'
import { rateLimits } from '../ratelimit'
import type { Runtime } from '../runtime'
import { factsOf, markStreaming, streamEnded, type RequestFacts } from '../telemetry/facts'
import { formatOf, generateImages, MAX_SIDE, sizeOf, type ImageJob } from './service'
import { sseHeaders } from '../chat/relay'

/** OpenAI's settings of its own image models: passed on to a server that speaks OpenAI's API, unused by Ollama's. */
const OPENAI_EXTRAS = ['quality', 'style', 'background', 'output_format', 'output_compression', 'moderation'] as const

const imageRequest = t.Object(
  {
    model: t.String({ minLength: 1, maxLength: 200, error: 'model must be a string of 1 to 200 characters' }),
    prompt: t.String({ minLength: 1, maxLength: 32_000, error: 'prompt must be a string of 1 to 32000 characters' }),
    n: nullable(integer({ minimum: 1, maximum: 10, error: 'n must be an integer from 1 to 10' })),
    size: nullable(t.String({ maxLength: 16, error: `size must be "auto" or WIDTHxHEIGHT, each side at most ${MAX_SIDE}` })),
    response_format: nullable(
      t.Union([t.Literal('b64_json'), t.Literal('url')], { error: 'response_format must be b64_json (or url, which this gateway does not serve)' }),
    ),
    stream: nullable(t.Boolean({ error: 'stream must be a boolean' })),
    user: nullable(t.String({ maxLength: 256, error: 'user must be a string of at most 256 characters' })),
    // Not OpenAI's: the diffusion steps of an Ollama image model.
    steps: t.Optional(integer({ minimum: 1, maximum: 200, description: "an Ollama image model's diffusion steps", error: 'steps must be an integer from 1 to 200' })),
    quality: nullable(t.String({ maxLength: 16, error: 'quality must be a string' })),
    style: nullable(t.String({ maxLength: 16, error: 'style must be a string' })),
    background: nullable(t.String({ maxLength: 16, error: 'background must be a string' })),
    output_format: nullable(t.String({ maxLength: 16, error: 'output_format must be a string' })),
    output_compression: nullable(integer({ minimum: 0, maximum: 100, error: 'output_compression must be an integer from 0 to 100' })),
    moderation: nullable(t.String({ maxLength: 16, error: 'moderation must be a string' })),
  },
  { examples: [{ model: 'x/z-image-turbo', prompt: 'a lighthouse at dawn, watercolour', size: '1024x768', n: 1 }] },
)

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`

/** Sizes OpenAI's stream events may name; any other is `auto` there. */
const OPENAI_SIZES = ['1024x1024', '1024x1536', '1536x1024']

function failed(facts: RequestFacts, error: HttpError) {
  facts.outcome = outcomeOf(error)
  facts.errorType = error.options.code ?? undefined
}

export const images = (rt: Runtime, pool: Pool) => {
  const catalog = modelCatalog(pool)
  return new Elysia({ name: 'images', prefix: '/v1' })
    .use(authGuard(rt))
    .use(rateLimits(rt))
    .use(concurrencyLimits(rt))
    .use(budgets(rt))
    .post(
      '/images/generations',
      async ({ body, request }) => {
        if (body.response_format === 'url')
          throw new HttpError(400, 'response_format "url" is not served: this gateway keeps no images, so it answers b64_json only', {
            param: 'response_format',
            code: 'unsupported_value',
          })
        const job: ImageJob = {
          model: body.model,
          prompt: body.prompt,
          n: body.n ?? 1,
          size: sizeOf(body.size),
          steps: body.steps,
          openAiExtras: Object.fromEntries(OPENAI_EXTRAS.flatMap((key) => (body[key] == null ? [] : [[key, body[key]]]))),
        }
        // A text model given an image request would answer with text: refused before it is asked.
        const { capabilities } = await catalog.get(job.model)
        if (!capabilities.includes('image'))
          throw new HttpError(400, `The model named in the request does not make images (its capabilities: ${capabilities.join(', ') || 'unknown'})`, {
            param: 'model',
            code: 'model_not_supported',
          })
        const facts = factsOf(request)
        facts.model = job.model
        const created = Math.floor(Date.now() / 1000)
        if (!body.stream) {
          try {
            const made = await generateImages(pool, job, request.signal, facts.startedAt)
            facts.upstream = made.upstream
            facts.images = made.images.length
            facts.outcome = 'ok'
            return { created, data: made.images.map((b64_json) => ({ b64_json })) }
          } catch (error) {
            if (request.signal.aborted || error instanceof Aborted) {
              facts.outcome = 'cancelled'
              throw clientGone()
            }
            if (error instanceof HttpError) failed(facts, error)
            throw error
          }
        }
        markStreaming(request)
        const size = body.size && OPENAI_SIZES.includes(body.size) ? body.size : 'auto'
        return new Response(
          new ReadableStream<string>({
            async start(controller) {
              const send = (text: string) => {
                if (!request.signal.aborted) controller.enqueue(text)
              }
              try {
                const made = await generateImages(pool, job, request.signal, facts.startedAt, {
                  progress: (image_index, completed, total) =>
                    send(event('image_generation.progress', { type: 'image_generation.progress', image_index, completed, total })),
                  image: (_, b64_json) =>
                    send(
                      event('image_generation.completed', {
                        type: 'image_generation.completed', b64_json, created_at: Math.floor(Date.now() / 1000), size, quality: 'auto', background: 'auto',
                        output_format: formatOf(b64_json),
                        // Neither Ollama nor these servers count image tokens.
                        usage: { total_tokens: 0, input_tokens: 0, output_tokens: 0, input_tokens_details: { text_tokens: 0, image_tokens: 0 } },
                      }),
                    ),
                })
                facts.upstream = made.upstream
                facts.images = made.images.length
                facts.outcome = 'ok'
              } catch (error) {
                if (request.signal.aborted) facts.outcome = 'cancelled'
                else {
                  const failure = error instanceof HttpError ? error : new HttpError(502, 'The image request failed upstream', { code: 'upstream_error' })
                  failed(facts, failure)
                  send(`event: error\ndata: ${JSON.stringify(errorBody('/v1', failure.status, failure.message, failure.options))}\n\n`)
                }
              } finally {
                facts.totalMs = performance.now() - facts.startedAt
                streamEnded(request)
                if (!request.signal.aborted) controller.close()
              }
            },
          }),
          { headers: sseHeaders },
        )
      },
      {
        auth: true,
        rateLimit: 'images',
        concurrencyLimit: true,
        budget: (body: typeof imageRequest.static) => ({ model: body.model, maxTokens: 0, images: body.n ?? 1 }),
        body: imageRequest,
        detail: {
          summary: 'Create images (OpenAI-compatible; b64_json only; streams progress and images as SSE when `stream` is true)',
          description:
            'Served by a server of OPENAI_UPSTREAMS whose models have the `image` capability, or by an Ollama host that still serves image models (v0.13 to v0.32.5), one image per call. `size` is "auto" (the model\'s default) or WIDTHxHEIGHT. With `stream: true`: `image_generation.progress` events `{type, image_index, completed, total}` (the diffusion steps, Ollama only), then an `image_generation.completed` event per image.',
          tags: ['images'],
        },
      },
    )
}
