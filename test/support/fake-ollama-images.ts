// Image generation as Ollama served it from about v0.13 to v0.32.5 (removed in v0.32.6), for the
// fake Ollama's /api/generate when the model has the `image` capability: `width`, `height` and
// `steps` in the request; streamed as NDJSON progress messages `{model, created_at, completed,
// total, done: false}`, one per diffusion step, then `{model, created_at, image, done: true,
// done_reason, total_duration, load_duration}` with the image as base64; or that last message
// alone with `stream: false`. A side past 4096 pixels is Ollama's 400.
import { onePixelPng } from './png'

export type ImageKnobs = {
  /** Steps when the request names none. */
  defaultSteps: number
  /** Wait before each step's message. */
  stepDelayMs: number
}

const encoder = new TextEncoder()

/** Each image made so far gets the next pixel value, so that tests tell the images of a request apart. */
let made = 0

export function imageGeneration(request: Request, body: any, knobs: ImageKnobs, onAbort: () => void): Response {
  if ((body.width ?? 0) > 4096 || (body.height ?? 0) > 4096) return Response.json({ error: 'width and height must be <= 4096' }, { status: 400 })
  const total = typeof body.steps === 'number' && body.steps > 0 ? body.steps : knobs.defaultSteps
  const at = () => new Date().toISOString()
  const final = () => ({ model: body.model, created_at: at(), image: onePixelPng(made++ % 256), done: true, done_reason: 'stop', total_duration: 1_234_567, load_duration: 12_345 })
  if (body.stream === false) return Response.json(final())
  let step = 0
  let finished = false
  request.signal.addEventListener('abort', () => {
    if (!finished) onAbort()
  })
  return new Response(
    new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (knobs.stepDelayMs) await Bun.sleep(knobs.stepDelayMs)
        if (step < total) {
          step++
          controller.enqueue(encoder.encode(`${JSON.stringify({ model: body.model, created_at: at(), completed: step, total, done: false })}\n`))
          return
        }
        finished = true
        controller.enqueue(encoder.encode(`${JSON.stringify(final())}\n`))
        controller.close()
      },
    }),
    { headers: { 'content-type': 'application/x-ndjson' } },
  )
}
