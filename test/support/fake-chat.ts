// Stand-ins for the chat feature's handlers, speaking the telemetry facts protocol the way
// the real ones do: facts set by the handler, streams marked and ended from `finally`.
import { t, type AnyElysia } from 'elysia'
import { authGuard } from '../../src/auth/guard'
import { HttpError } from '../../src/http/errors'
import type { Runtime } from '../../src/runtime'
import { factsOf, markStreaming, streamEnded } from '../../src/telemetry/facts'

const completion = t.Object({
  model: t.String(),
  promptTokens: t.Integer(),
  completionTokens: t.Integer(),
  /** Answer with this upstream failure instead. */
  fail: t.Optional(t.Integer()),
})

const stream = t.Object({ model: t.String(), promptTokens: t.Integer(), chunks: t.Integer(), delayMs: t.Integer() })

export function withFakeChat(app: AnyElysia, rt: Runtime) {
  return app
    .use(authGuard(rt))
    .post(
      '/v1/test/completions',
      ({ request, body }) => {
        const facts = factsOf(request)
        facts.model = body.model
        facts.upstream = 'http://fake-ollama'
        if (body.fail) {
          facts.outcome = 'upstream_error'
          facts.errorType = 'upstream_unavailable'
          throw new HttpError(body.fail, 'The upstream is unavailable')
        }
        facts.completionId = `chatcmpl-${Bun.randomUUIDv7()}`
        facts.promptTokens = body.promptTokens
        facts.completionTokens = body.completionTokens
        facts.finishReason = 'stop'
        return { id: facts.completionId, model: body.model }
      },
      { auth: true, body: completion },
    )
    .post(
      '/v1/test/stream',
      async function* ({ request, body, set }) {
        const facts = markStreaming(request)
        facts.model = body.model
        facts.completionId = `chatcmpl-${Bun.randomUUIDv7()}`
        facts.promptTokens = body.promptTokens
        set.headers['content-type'] = 'text/event-stream'
        try {
          for (let i = 0; i < body.chunks; i++) {
            await Bun.sleep(body.delayMs)
            facts.ttftMs ??= performance.now() - facts.startedAt
            facts.completionTokens = i + 1
            yield JSON.stringify({ id: facts.completionId, index: i })
          }
          facts.finishReason = 'stop'
          facts.outcome = 'ok'
        } finally {
          facts.totalMs = performance.now() - facts.startedAt
          streamEnded(request)
        }
      },
      { auth: true, body: stream },
    )
}
