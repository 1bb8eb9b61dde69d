// What the response cache keeps of a chat completion: the answer itself (text, reasoning, tool
// calls, why it stopped, its token counts), not the bytes sent. A stored answer is then replayed
// either way, as one `chat.completion` or as an SSE stream, whichever way it was first asked for.

export type CachedToolCall = { id: string; name: string; arguments: string }

export type CachedCompletion = {
  content: string
  reasoning: string
  toolCalls: CachedToolCall[]
  /** Ollama's `done_reason` (`stop`, `length`…): with the tool calls, it gives the finish reason. */
  doneReason: string | undefined
  promptTokens: number
  completionTokens: number
}

const isText = (value: unknown) => typeof value === 'string'
const isCount = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 0

/** The stored text read back, or undefined when it is not an answer (stored by another version, or damaged). */
export function parseEntry(text: string): CachedCompletion | undefined {
  let entry: Partial<CachedCompletion>
  try {
    entry = JSON.parse(text)
  } catch {
    return undefined
  }
  const valid =
    typeof entry === 'object' &&
    entry !== null &&
    isText(entry.content) &&
    isText(entry.reasoning) &&
    Array.isArray(entry.toolCalls) &&
    entry.toolCalls.every((call) => isText(call?.id) && isText(call?.name) && isText(call?.arguments)) &&
    (entry.doneReason === undefined || isText(entry.doneReason)) &&
    isCount(entry.promptTokens) &&
    isCount(entry.completionTokens)
  return valid ? (entry as CachedCompletion) : undefined
}
