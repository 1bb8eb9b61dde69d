// Budgets on the inference routes, and the caller's own view of theirs. `{ budget: boundOf }` on
// a route reserves the request's worst case (./service.ts) once its body is valid: `boundOf`
// reads the model, the output tokens asked for (capped by MAX_OUTPUT_TOKENS, as the upstream
// request is), how many choices or images; the prompt is bounded by the body's bytes (a token
// is at least a byte). The reservation is settled to the request's logged use when it is over:
// at once for a reply, when its stream ends for a stream, however it ends.
import { Elysia } from 'elysia'
import { authGuard } from '../auth/guard'
import type { Principal } from '../auth/principal'
import { originOf } from '../audit/service'
import type { Runtime } from '../runtime'
import { factsOf, tokenCount, whenOver } from '../telemetry/facts'
import { budgetsPage, reserveBudgets, type Settle } from './service'

/** What a route reads from a valid body to bound its request. */
export type RequestBound = {
  model: string
  /** The output tokens asked for (per choice); none: MAX_OUTPUT_TOKENS. 0 for a request that generates no text. */
  maxTokens?: number | null
  /** Choices generated (`n`), each up to `maxTokens`. */
  choices?: number | null
  /** Images made. */
  images?: number | null
}

/** Each request's reservation: settled to its use when it is over; `more` reserves for input it learns of later. */
type Held = { settle: Settle; extra: Settle[]; more(inputTokens: number): Promise<void> }

const held = new WeakMap<Request, Held>()

/**
 * Reserves `inputTokens` more for a request that learnt of more input than its body after its
 * budgets were reserved (a Responses request's stored history), or throws the 429 of the budget it
 * would pass. Nothing for a request no budget applies to. Given back when the request is over.
 */
export const reserveMoreInput = (request: Request, inputTokens: number) => held.get(request)?.more(inputTokens)

/** A settle that gives a reservation back whole. */
const NOTHING_USED = { model: undefined, promptTokens: 0, completionTokens: 0, images: 0, cached: true }

/** The prompt's tokens at most: one per byte of the body (what a WebSocket request lacks, its JSON's). */
const promptBound = (request: Request, body: unknown) => Number(request.headers.get('content-length')) || Buffer.byteLength(JSON.stringify(body))

export const budgets = (rt: Runtime) =>
  new Elysia({ name: 'budgets' }).macro({
    budget(boundOf: (body: never) => RequestBound) {
      return {
        // After validation, rate limits and concurrency caps: a request refused there reserves nothing.
        async beforeHandle(ctx) {
          const principal = (ctx as { principal?: Principal }).principal
          if (!principal) return
          // Worked out only for a caller with budgets (most have none).
          const worstCase = () => {
            const bound = boundOf(ctx.body as never)
            const maxTokens = Math.min(bound.maxTokens ?? rt.config.maxOutputTokens, rt.config.maxOutputTokens)
            return { model: bound.model, inputTokens: promptBound(ctx.request, ctx.body), outputTokens: maxTokens * (bound.choices ?? 1), images: bound.images ?? 0 }
          }
          const origin = () => originOf(rt, ctx, principal)
          const settle = await reserveBudgets(rt, principal, worstCase, origin)
          if (!settle) return
          const extra: Settle[] = []
          const model = boundOf(ctx.body as never).model
          const more = async (inputTokens: number) => {
            const settleExtra = await reserveBudgets(rt, principal, () => ({ model, inputTokens, outputTokens: 0, images: 0 }), origin)
            if (settleExtra) extra.push(settleExtra)
          }
          held.set(ctx.request, { settle, extra, more })
        },
        // Runs for errors too, before the response is sent: a reply's client that sends its next
        // request at once finds the budget settled (a stream settles when it ends).
        async mapResponse({ request }) {
          const reservation = held.get(request)
          if (!reservation) return
          held.delete(request)
          let settling: Promise<unknown> | undefined
          whenOver(request, () => {
            const facts = factsOf(request)
            // The use is settled once, against the first reservation; the extra ones are given back whole.
            settling = Promise.all([
              reservation.settle({
                model: facts.model,
                promptTokens: tokenCount(facts.promptTokens),
                completionTokens: tokenCount(facts.completionTokens),
                images: facts.images ?? 0,
                cached: facts.cached === true,
              }),
              ...reservation.extra.map((settle) => settle(NOTHING_USED)),
            ])
          })
          await settling
        },
      }
    },
  })

/** The caller's own budgets: their account's and their keys'. */
export const ownBudgets = (rt: Runtime) =>
  new Elysia({ name: 'own-budgets', prefix: '/api/budgets' }).use(authGuard(rt)).get('', async ({ principal }) => ({ items: await budgetsPage(rt, { userId: principal.userId, limit: 1000 }) }), {
    auth: true,
    detail: {
      summary: 'Your budgets: your account’s and your API keys’, each with what its current window spent, what is left and when it resets',
      tags: ['budgets'],
    },
  })
