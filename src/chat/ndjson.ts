// Ollama's streamed reply is NDJSON, one message per line. This reads it a network read at a
// time and parses every whole line of that read together, so the gateway translates and writes
// a read's messages in one go. (The ollama client's own reader hands them out one by one through
// two async generators, which cost more than the parsing itself on fast streams.)

export class NdjsonReader {
  private buffer = ''
  private readonly decoder = new TextDecoder()

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /**
   * The parsed lines of the next read that completes at least one line; undefined once the body
   * ends. A line that is not JSON comes as an `{error}` message, the way Ollama reports a failure.
   */
  async next(): Promise<unknown[] | undefined> {
    for (;;) {
      const { done, value } = await this.reader.read()
      if (done) {
        const rest = this.buffer + this.decoder.decode()
        this.buffer = ''
        return rest.trim() ? this.parse(rest) : undefined
      }
      this.buffer += this.decoder.decode(value, { stream: true })
      const end = this.buffer.lastIndexOf('\n')
      if (end < 0) continue
      const lines = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 1)
      const messages = this.parse(lines)
      if (messages.length) return messages
    }
  }

  private parse(text: string): unknown[] {
    const messages: unknown[] = []
    for (const line of text.split('\n')) {
      if (!line.trim()) continue
      try {
        messages.push(JSON.parse(line))
      } catch {
        messages.push({ error: `Ollama sent a line that is not JSON: ${JSON.stringify(line.slice(0, 80))}` })
      }
    }
    return messages
  }
}
