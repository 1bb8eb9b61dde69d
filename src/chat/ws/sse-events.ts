// Reads the chat route's SSE body back into its events, as they arrive: the socket carries the
// same chunks, so it reads them from the one streaming pipeline instead of a second one.

export type SseEvent = { event?: string; data: string }

/**
 * Yields the events of a text/event-stream body as they arrive: those whose blank line came in
 * one read together (the chat writes the events of one upstream read in one write).
 */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent[]> {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const bytes of body) {
    buffered += decoder.decode(bytes, { stream: true })
    const events: SseEvent[] = []
    for (let end = buffered.indexOf('\n\n'); end !== -1; end = buffered.indexOf('\n\n')) {
      const block = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      const event: SseEvent = { data: '' }
      const data: string[] = []
      for (const line of block.split('\n'))
        if (line.startsWith('event: ')) event.event = line.slice(7)
        else if (line.startsWith('data: ')) data.push(line.slice(6))
      event.data = data.join('\n')
      events.push(event)
    }
    if (events.length) yield events
  }
}
