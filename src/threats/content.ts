// Prompt-injection and jailbreak patterns looked for in chat messages. The set is small on
// purpose: each pattern names a well-known attack phrasing, and each is tested. A match is
// flagged as a suspicious_content threat; it is refused only when BLOCK_SUSPICIOUS is on.
import type { Principal } from '../auth/principal'
import { clientAddress } from '../http/client-address'
import { HttpError } from '../http/errors'
import type { Runtime } from '../runtime'
import type { Severity } from './store'

export type ContentPattern = { name: string; severity: Severity; pattern: RegExp }

export const contentPatterns: ContentPattern[] = [
  {
    // "Ignore all previous instructions", "disregard the system prompt"
    name: 'ignore_instructions',
    severity: 'medium',
    pattern:
      /\b(?:ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}?\b(?:previous|prior|above|earlier|preceding|system|original)\b[^.\n]{0,20}?\b(?:instructions?|prompts?|rules|directions|guidelines|messages?)\b/i,
  },
  {
    // "Reveal your system prompt", "print the hidden instructions"
    name: 'prompt_extraction',
    severity: 'medium',
    pattern:
      /\b(?:reveal|show|print|repeat|output|leak|dump|tell me)\b[^.\n]{0,40}?\b(?:system prompt|hidden (?:prompt|instructions)|initial instructions|your instructions|developer (?:message|prompt))\b/i,
  },
  {
    // "You are now DAN", "Do Anything Now", "developer mode enabled", "jailbreak"
    name: 'jailbreak_persona',
    severity: 'high',
    pattern: /\b(?:you are (?:now )?DAN|do anything now|developer mode (?:enabled|on)|jailbr(?:eak|oken) mode|\bjailbreak\b)/i,
  },
  {
    // "Pretend you have no rules", "act without any restrictions"
    name: 'restriction_removal',
    severity: 'medium',
    pattern:
      /\b(?:pretend|act|behave|imagine)\b[^.\n]{0,30}?\b(?:no|without (?:any )?)\s*(?:rules|restrictions|filters|guidelines|limitations|censorship|safety)\b/i,
  },
  {
    // Chat-template control tokens smuggled into user text: <|im_start|>system, [INST], <<SYS>>
    name: 'template_injection',
    severity: 'high',
    pattern: /<\|(?:im_start|im_end|system|endoftext)\|>|\[\/?INST\]|<<\/?SYS>>/i,
  },
]

export type ContentFinding = { pattern: string; severity: Severity; messageIndex: number; excerpt: string }

type Message = { role: string; content?: unknown }

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content))
    return content
      .map((part) => (part && typeof part === 'object' && 'text' in part && typeof part.text === 'string' ? part.text : ''))
      .join('\n')
  return ''
}

/**
 * The first pattern found in the messages that are new in this request: the user and tool
 * messages after the last assistant turn (earlier turns were screened when they were sent).
 * The finding carries a short excerpt, never the whole prompt.
 */
export function findSuspicious(messages: Message[]): ContentFinding | undefined {
  let first = messages.length
  while (first > 0 && messages[first - 1]!.role !== 'assistant') first--
  for (let index = first; index < messages.length; index++) {
    const message = messages[index]!
    if (message.role !== 'user' && message.role !== 'tool') continue
    const text = textOf(message.content)
    for (const { name, severity, pattern } of contentPatterns) {
      const match = pattern.exec(text)
      if (match) return { pattern: name, severity, messageIndex: index, excerpt: match[0].slice(0, 60) }
    }
  }
  return undefined
}

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
  rt.threats.observe({
    type: 'suspicious_content',
    key: apiKeyId ?? userId,
    severity: finding.severity,
    userId,
    apiKeyId,
    address: clientAddress(who.request, who.server, rt.config.trustProxy),
    detail: `${finding.pattern} in messages[${finding.messageIndex}]: "${finding.excerpt}"`,
  })
  if (rt.config.blockSuspicious)
    throw new HttpError(400, `messages[${finding.messageIndex}] matches a prompt-injection pattern (${finding.pattern}) and was refused`, {
      param: `messages.${finding.messageIndex}`,
      code: 'content_blocked',
    })
}
