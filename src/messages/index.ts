// POST /v1/messages: Anthropic's Messages API (what Claude Code and @anthropic-ai/sdk speak), in
// front of the same hosts as the chat. The request is translated into a chat request
// (./to-chat.ts) and run through the chat pipeline itself (src/chat/service.ts): one request log
// row, the same rate limit, concurrency cap, screening, response cache, failover, cancellation on
// disconnect and time limits. The reply comes back in Anthropic's shapes (./to-anthropic.ts), and
// every error on these paths in Anthropic's envelope (src/http/errors.ts). Credentials come as
// `Authorization: Bearer` or `x-api-key`; `anthropic-version` and `anthropic-beta` are accepted
// and ignored.
import { Elysia } from 'elysia'
import { authGuard } from '../auth/guard'
import { openCompletion } from '../chat/cached'
import type { Pool } from '../chat/pool'
import { screenMessages } from '../chat/screening'
import { collectCompletion, startCompletion, streamCompletion } from '../chat/service'
import { checkChatRequest } from '../chat/to-ollama'
import { budgets } from '../budgets'
import { concurrencyLimits } from '../concurrency'
import { rateLimits } from '../ratelimit'
import type { Runtime } from '../runtime'
import { messagesRequest, type MessagesRequest } from './schemas'
import { messageEvents, messageOf } from './to-anthropic'
import { screenedMessages, toChatRequest } from './to-chat'
import { sseHeaders } from '../chat/relay'


export const messages = (rt: Runtime, pool: Pool) =>
  new Elysia({ name: 'messages', prefix: '/v1' })
    .use(authGuard(rt))
    .use(rateLimits(rt))
    .use(concurrencyLimits(rt))
    .use(budgets(rt))
    .post(
      '/messages',
      async ({ body, request, principal, server, set }) => {
        const { chat, reply } = toChatRequest(body)
        checkChatRequest(chat)
        screenMessages(rt, { principal, request, server }, screenedMessages(body))
        const started = await openCompletion(rt, chat, request, principal.userId, set.headers, () =>
          startCompletion(pool, chat, request, rt.config.maxOutputTokens),
        )
        if (!chat.stream) return messageOf(await collectCompletion(started), reply)
        return new Response(streamCompletion(started, messageEvents(reply)), { headers: sseHeaders })
      },
      {
        auth: true,
        rateLimit: 'chat',
        concurrencyLimit: true,
        budget: (body: MessagesRequest) => ({ model: body.model, maxTokens: body.max_tokens }),
        body: messagesRequest,
        detail: {
          summary: "Create a message (Anthropic's Messages API; streams SSE when `stream` is true)",
          description:
            "Anthropic's request (`model`, `max_tokens`, `system`, `messages` of text, base64 image, tool_use, tool_result and thinking blocks, " +
            'custom `tools` with `input_schema`, `tool_choice`, `stop_sequences`, `temperature`, `top_p`, `top_k`, `thinking`, `output_config`, ' +
            '`metadata.user_id`, `stream`) run as a chat completion on the Ollama hosts, answered with Anthropic\'s `message` object or its ' +
            'event stream (message_start, ping, content_block_start/delta/stop, message_delta, message_stop; `error` on a failure). ' +
            'Credentials as `Authorization: Bearer` or `x-api-key`; errors in Anthropic\'s envelope `{"type":"error","error":{"type","message"}}`. ' +
            'Server tools, documents, remote images, `container` and `mcp_servers` are refused with a 400 naming the field; `context_management` is accepted and ignored (Claude Code sends it).',
          tags: ['messages'],
        },
      },
    )
