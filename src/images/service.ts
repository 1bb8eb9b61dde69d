// Image generation (POST /v1/images/generations). A server that speaks OpenAI's API makes all n
// images in one request. An Ollama host whose version still serves image models (about v0.13 to
// v0.32.5: capability `image`) makes one per /api/generate call, given `width`, `height`, `steps`,
// and streams its progress (`completed`/`total` steps) before the image: n images are n calls,
// IMAGE_CALLS_AT_ONCE at a time, each on whichever host the pool picks.
import type { Ollama } from 'ollama/browser'
import { Aborted } from '../chat/aborted'
import { midStreamFailure } from '../chat/failures'
import type { Pool } from '../chat/pool'
import type { Post } from '../chat/openai-upstream'
import type { MessageSource } from '../chat/upstream-reply'
import { HttpError } from '../http/errors'

/** Ollama image models take a GPU each: more calls at once only queue there. */
const IMAGE_CALLS_AT_ONCE = 2

/** Ollama refuses either side past 4096 pixels. */
export const MAX_SIDE = 4096

export type ImageJob = {
  model: string
  prompt: string
  n: number
  /** Undefined: the model's default size. */
  size?: { width: number; height: number }
  steps?: number
  /** Passed on as they came to a server that speaks OpenAI's API (quality, style, background…). */
  openAiExtras: Record<string, unknown>
}

/** One message of Ollama's image generation: progress, or the image (with `done`). */
type ImageMessage = { done?: boolean; image?: string; completed?: number; total?: number }

/** What a streamed request hears while the images are made: Ollama's steps, and each image once it is there. */
export type Listener = { progress(imageIndex: number, completed: number, total: number): void; image(imageIndex: number, b64: string): void }

/** `WxH` (each side 1 to MAX_SIDE), or `auto` / left out: the model's default. */
export function sizeOf(size: string | null | undefined): ImageJob['size'] {
  if (size == null || size === 'auto') return undefined
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(size)
  const [width, height] = match ? [Number(match[1]), Number(match[2])] : [0, 0]
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE)
    throw new HttpError(400, `size must be "auto" or WIDTHxHEIGHT with each side from 1 to ${MAX_SIDE} pixels, such as 1024x768`, {
      param: 'size',
      code: 'invalid_value',
    })
  return { width, height }
}

/** A server's images answer as image messages: `count` of them at once. */
async function fromOpenAi(post: Post, job: ImageJob, count: number): Promise<MessageSource> {
  const body = { ...job.openAiExtras, model: job.model, prompt: job.prompt, n: count, response_format: 'b64_json', ...(job.size ? { size: `${job.size.width}x${job.size.height}` } : {}) }
  const answer = (await (await post('/images/generations', body)).json()) as { data?: unknown } | null
  const data = Array.isArray(answer?.data) ? (answer.data as { b64_json?: unknown }[]) : []
  const images = data.map((entry) => entry?.b64_json).filter((image): image is string => typeof image === 'string' && image.length > 0)
  if (images.length === 0) throw new Error('the server answered without any b64_json image')
  let read = false
  return {
    next: async () => {
      if (read) return undefined
      read = true
      return [...images.map((image) => ({ image })), { done: true }]
    },
  }
}

/**
 * Makes the job's images, in order, as base64; `listener` hears each step and image as it comes.
 * The host that made them is in `upstream`. A failure is thrown as the HttpError the client gets
 * (the client leaving as `Aborted`); the other calls are then stopped.
 */
export async function generateImages(pool: Pool, job: ImageJob, signal: AbortSignal, startedAt: number, listener?: Listener) {
  const images: string[] = []
  let upstream = ''
  const stop = new AbortController()
  const stopped = AbortSignal.any([signal, stop.signal])

  /**
   * One call for the images from `index`, `count` of them at most: an image server makes them
   * all, an Ollama image model one. How many it made.
   */
  const make = async (index: number, count: number) => {
    const send = {
      needs: 'image' as const,
      // Nothing comes back while an image server works: only MAX_REQUEST_SECONDS bounds it.
      patient: true,
      ollama: {
        path: '/api/generate' as const,
        body: { model: job.model, prompt: job.prompt, stream: true, ...(job.size ?? {}), ...(job.steps ? { steps: job.steps } : {}) },
      },
      openai: (post: Post) => fromOpenAi(post, job, count),
    }
    const reply = await pool.stream<ImageMessage>(job.model, send, stopped, startedAt)
    upstream = reply.host.url
    try {
      let made = 0
      for (let batch: ImageMessage[] | undefined = reply.first; batch; batch = await reply.next())
        for (const message of batch)
          if (message.image && made < count) {
            listener?.image(index + made, message.image)
            images[index + made++] = message.image
          } else if (message.total) listener?.progress(index, message.completed ?? 0, message.total)
      if (made === 0) throw new Error('the image model finished without an image')
      return made
    } catch (error) {
      reply.close()
      throw error instanceof HttpError || (error instanceof Aborted && error.why === 'client') ? error : midStreamFailure(reply.host, error)
    }
  }

  try {
    // The first call asks for them all (an image server makes them at once); what it did not
    // make, one image per call, a few calls at a time.
    let next = await make(0, job.n)
    const worker = async () => {
      while (next < job.n) {
        const index = next++
        await make(index, 1)
      }
    }
    await Promise.all(Array.from({ length: Math.min(IMAGE_CALLS_AT_ONCE, job.n - next) }, worker))
  } catch (error) {
    stop.abort()
    throw error
  }
  return { images, upstream }
}

/** The image format of base64 data, by its first bytes (OpenAI's stream events name it). */
export function formatOf(b64: string): 'png' | 'jpeg' | 'webp' {
  if (b64.startsWith('/9j/')) return 'jpeg'
  if (b64.startsWith('UklGR')) return 'webp'
  return 'png'
}
