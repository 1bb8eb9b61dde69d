// Reads a text/event-stream body into its events, the way an SSE client does.
export type SseEvent = { event?: string; data: string }

export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event: SseEvent = { data: '' }
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event.event = line.slice(7)
        else if (line.startsWith('data: ')) data.push(line.slice(6))
      }
      event.data = data.join('\n')
      return event
    })
}

/** The JSON payloads of a stream, `[DONE]` excluded. */
export const chunksOf = (events: SseEvent[]) => events.filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data))
