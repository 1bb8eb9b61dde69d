// Asks for missing values on an interactive terminal, secrets without echo. One readline
// interface serves every question and queues lines typed ahead, so none are lost.
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { UsageError } from './command'

export const interactive = () => Boolean(process.stdin.isTTY && process.stdout.isTTY)

export type Ask = (question: string, options?: { secret?: boolean }) => Promise<string>

export async function withQuestions<T>(use: (ask: Ask) => Promise<T>): Promise<T> {
  let muted = false
  // readline echoes what is typed through its output; muting it hides a secret.
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stdout.write(chunk)
      done()
    },
  })
  const lines = createInterface({ input: process.stdin, output, terminal: true })
  lines.on('SIGINT', () => process.exit(130))
  const answers = lines[Symbol.asyncIterator]()
  const ask: Ask = async (question, { secret = false } = {}) => {
    lines.setPrompt(question)
    lines.prompt()
    muted = secret
    try {
      const answer = await answers.next()
      if (answer.done) throw new UsageError('the input ended before every question was answered')
      return answer.value
    } finally {
      muted = false
      if (secret) process.stdout.write('\n')
    }
  }
  try {
    return await use(ask)
  } finally {
    lines.close()
  }
}
