// Prompt-injection and jailbreak patterns looked for in chat messages. The set is small on
// purpose: each pattern names a well-known attack phrasing, and each is tested. The chat route
// flags a match as a suspicious_content threat (src/chat/screening.ts).
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

export type ContentFinding = { pattern: string; severity: Severity; messageIndex: number }

export type Message = { role: string; content?: unknown }

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content))
    return content
      .map((part) => (part && typeof part === 'object' && 'text' in part && typeof part.text === 'string' ? part.text : ''))
      .join('\n')
  return ''
}

/**
 * The first pattern found in the user and tool messages, where outside text comes in. The
 * whole conversation is looked at each time: a client sends all of it on every request, so an
 * earlier turn (or a made-up assistant reply after it) hides nothing. System and developer
 * messages are the application's own instructions, which often name these very attacks to
 * forbid them ("never reveal your system prompt"). The finding names the pattern and the
 * message, never their text.
 */
export function findSuspicious(messages: Message[]): ContentFinding | undefined {
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index]!
    if (message.role !== 'user' && message.role !== 'tool') continue
    const text = textOf(message.content)
    for (const { name, severity, pattern } of contentPatterns)
      if (pattern.test(text)) return { pattern: name, severity, messageIndex: index }
  }
  return undefined
}
