// A chat request's messages are screened for prompt-injection patterns (../threats/content.ts)
// before they reach a model: a match is flagged as a suspicious_content threat, and refused only
// when BLOCK_SUSPICIOUS is on.
import type { Principal } from '../auth/principal'
import { clientAddress } from '../http/client-address'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import { threatMonitorOf } from '../threats'
import { findSuspicious, type Message } from '../threats/content'

/**
 * Looks at a chat request's messages: a match is a suspicious_content threat, and with
 * BLOCK_SUSPICIOUS the request is refused with 400 before it reaches a model.
 */
export function screenMessages(
  rt: Runtime,
  who: { principal: Principal; request: Request; server: Parameters<typeof clientAddress>[1] },
  messages: Message[],
): void {
  const finding = findSuspicious(messages)
  if (!finding) return
  const { userId, apiKeyId } = who.principal
  threatMonitorOf(rt).observe({
    type: 'suspicious_content',
    key: apiKeyId ?? userId,
    severity: finding.severity,
    userId,
    apiKeyId,
    address: clientAddress(who.request, who.server, rt.config.trustProxy),
    detail: `${finding.pattern} in messages[${finding.messageIndex}]`,
  })
  if (rt.config.blockSuspicious)
    throw new HttpError(400, `messages[${finding.messageIndex}] matches a prompt-injection pattern (${finding.pattern}) and was refused`, {
      param: `messages.${finding.messageIndex}`,
      code: 'content_blocked',
    })
}
