// Turns an OpenAI text completion request into Ollama's /api/generate request: the prompt and its
// suffix (fill-in-the-middle), sampling options, the output cap, and log probabilities. What the
// schema lets through but Ollama cannot do is refused here, naming the field and saying why.
import type { GenerateRequest, Options } from 'ollama/browser'
import { HttpError } from '../http/errors'
import type { CompletionRequest } from './model'

const invalid = (param: string, message: string) =>
  new HttpError(400, `Invalid body field '${param}': ${message}`, { param, code: 'invalid_value' })

const unsupported = (param: string, message: string) =>
  new HttpError(400, `Unsupported body field '${param}': ${message}`, { param, code: 'unsupported_parameter' })

/**
 * The one prompt of the request: OpenAI also takes several prompts and token ids, which Ollama's
 * generate does not. Nor does it complete an empty prompt: it takes it for a request to load the
 * model, and answers with no text at all, which would pass for a completion that is empty.
 */
function promptOf(prompt: CompletionRequest['prompt']): string {
  if (Array.isArray(prompt) && prompt.some((item) => typeof item !== 'string'))
    throw invalid('prompt', 'prompts of token ids are not supported: Ollama takes text, so send the prompt as a string')
  if (Array.isArray(prompt) && prompt.length !== 1)
    throw invalid('prompt', 'must be a string or an array of exactly one string: send one request per prompt')
  const text = typeof prompt === 'string' ? prompt : (prompt[0] as string)
  if (text === '') throw invalid('prompt', 'must not be empty: Ollama takes an empty prompt as a request to load the model, and generates nothing')
  return text
}

function checkUnsupported(body: CompletionRequest) {
  if (body.echo === true) throw unsupported('echo', 'echoing the prompt back is not supported; send echo: false or leave it out')
  if (body.best_of != null && body.best_of > 1)
    throw unsupported('best_of', 'only 1 is supported: Ollama returns one completion per request, so there is no best of several')
  const bias = body.logit_bias
  if (bias != null && (typeof bias !== 'object' || Array.isArray(bias) || Object.keys(bias).length > 0))
    throw unsupported('logit_bias', 'Ollama has no logit bias; send null or leave it out')
}

function checkStreamOptions(options: unknown) {
  if (options == null) return
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('stream_options', 'must be an object such as {"include_usage": true}, or null')
  const { include_usage: includeUsage } = options as Record<string, unknown>
  if (includeUsage != null && typeof includeUsage !== 'boolean') throw invalid('stream_options.include_usage', 'must be a boolean')
}

/** `num_predict` is always sent, never above the ceiling: without it Ollama generates until the context is full. */
function optionsOf(body: CompletionRequest, maxOutputTokens: number): Partial<Options> {
  const options: Partial<Options> = {}
  if (body.temperature != null) options.temperature = body.temperature
  if (body.top_p != null) options.top_p = body.top_p
  options.num_predict = Math.min(body.max_tokens ?? maxOutputTokens, maxOutputTokens)
  if (body.stop != null) options.stop = typeof body.stop === 'string' ? [body.stop] : body.stop
  if (body.seed != null) options.seed = body.seed
  if (body.presence_penalty != null) options.presence_penalty = body.presence_penalty
  if (body.frequency_penalty != null) options.frequency_penalty = body.frequency_penalty
  return options
}

/**
 * The upstream request, its output capped at `maxOutputTokens` (MAX_OUTPUT_TOKENS). It always
 * streams: that is what lets a slow or vanished client be noticed.
 */
export function toGenerateRequest(body: CompletionRequest, maxOutputTokens: number): GenerateRequest & { stream: true } {
  checkUnsupported(body)
  checkStreamOptions(body.stream_options)
  const request: GenerateRequest & { stream: true } = {
    model: body.model,
    prompt: promptOf(body.prompt),
    stream: true,
    options: optionsOf(body, maxOutputTokens),
  }
  if (body.suffix) request.suffix = body.suffix
  // OpenAI's `logprobs: n` asks for the sampled token's and n alternatives' log probabilities; 0 only the sampled one's.
  if (body.logprobs != null) {
    request.logprobs = true
    if (body.logprobs > 0) request.top_logprobs = body.logprobs
  }
  return request
}
