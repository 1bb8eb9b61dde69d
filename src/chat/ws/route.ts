// /v1/chat/ws in the API description. The upgrade itself is taken by the server before the app
// (./sockets.ts: Elysia's `.ws()` needs Elysia's own listener, and app.handle cannot upgrade);
// a plain GET reaching the app is answered 426, and this route's description is the protocol.
import { Elysia } from 'elysia'
import { HttpError } from '../../http/errors'

const description = `Chat over one WebSocket, several requests at once.

**Connect** to \`ws(s)://host/v1/chat/ws\`. Browsers cannot send \`Authorization\` on a socket, so the
credentials (a JWT access token or an API key) come either as a subprotocol — offer
\`["ai-studio", "bearer.<token>"]\`; the server selects \`ai-studio\` — or in a first message
\`{"type":"auth","token":"…"}\` sent within 5 s. Otherwise, or with bad credentials, the socket
closes with 1008 and a reason.

**Client → server**
- \`{"type":"chat","id":"r1","request":{…}}\`: \`request\` is the body of \`POST /v1/chat/completions\`
  (validated the same way; \`stream\` is implied). \`id\` (a string or an integer) is echoed on every reply.
- \`{"type":"cancel","id":"r1"}\`: aborts that request and its upstream at once.

**Server → client**
- \`{"type":"chunk","id":"r1","chunk":{…}}\`: exactly the \`chat.completion.chunk\` objects the SSE stream carries;
- then \`{"type":"done","id":"r1","usage":{"prompt_tokens":…,"completion_tokens":…,"total_tokens":…}}\`;
- or \`{"type":"error","id":"r1","error":{"message","type","param","code"}}\` (the OpenAI error object; a
  cancelled request ends with code \`request_cancelled\`). A message the server cannot read gets an
  \`error\` without \`id\` naming the problem, and the socket stays open.

Each request is a request to \`/v1/chat/completions\`: the same rate limit (per request), concurrency
cap, threat checks, response cache and request log (logged under \`/v1/chat/ws\`). A deactivated user
or revoked key or session closes the socket within a second (1008); a client that stops reading is
closed (1008) once 1 MiB waits unsent, its requests cancelled; at shutdown requests in flight finish
(up to SHUTDOWN_TIMEOUT_MS), then the socket closes with 1001. Idle sockets are pinged.`

export const chatSocketRoute = new Elysia({ name: 'chat-socket-route' }).get(
  '/chat/ws',
  () => {
    throw new HttpError(426, 'This endpoint speaks WebSocket only: connect with an Upgrade: websocket request', {
      code: 'upgrade_required',
      headers: { upgrade: 'websocket' },
    })
  },
  { detail: { summary: 'Chat over a WebSocket (several streamed requests on one socket)', description, tags: ['chat'] } },
)
