// A conversation written out for the user to keep: JSON (the API's own shapes) or Markdown.
import type { Conversation, Message } from '../db/stores/conversations'
import { conversationView, messageView } from './model'

export type Exported = { conversation: Conversation; messages: Message[] }

export const asJson = (all: Exported[]) =>
  JSON.stringify(
    { conversations: all.map(({ conversation, messages }) => ({ ...conversationView(conversation), messages: messages.map(messageView) })) },
    null,
    2,
  )

const partText = (m: Message) =>
  (m.parts ?? [])
    .filter((p) => p.type !== 'text')
    .map((p) => (p.type === 'image_url' ? '*[image]*' : p.type === 'image_omitted' ? `*[image of ${p.bytes} bytes, not kept]*` : ''))

const messageMarkdown = (m: Message) => {
  const marks = m.state === 'complete' ? '' : ` *(${m.state})*`
  const lines = [`### ${m.role}${marks}`, '']
  if (m.reasoning) lines.push(...m.reasoning.split('\n').map((l) => `> ${l}`), '')
  if (m.content) lines.push(m.content, '')
  lines.push(...partText(m).map((l) => `${l}\n`))
  if (m.toolCalls?.length) lines.push('```json', JSON.stringify(m.toolCalls, null, 2), '```', '')
  return lines.join('\n')
}

export const asMarkdown = (all: Exported[]) =>
  all
    .map(({ conversation: c, messages }) =>
      [
        `# ${c.title || 'Untitled conversation'}`,
        '',
        `*${new Date(c.createdAt).toISOString()}${c.model ? ` · ${c.model}` : ''}*`,
        '',
        ...messages.map(messageMarkdown),
      ].join('\n'),
    )
    .join('\n---\n\n')
