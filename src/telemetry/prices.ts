// Cost of a request: tokens × the model's price per 1M tokens from MODEL_PRICES, plus images ×
// its price per image.
// An exact model name wins over globs; among globs the longest pattern wins; unpriced = 0.
import type { ModelPrice } from '../config'
import { globToRegExp } from '../http/glob'
import { perRuntime } from '../runtime'

export type CostOf = (model: string | undefined, promptTokens: number, completionTokens: number, images?: number) => number

export function pricing(prices: ModelPrice[]): CostOf {
  const exact = new Map(prices.map((price) => [price.pattern, price]))
  const globs = prices
    .filter((price) => /[*?]/.test(price.pattern))
    .sort((a, b) => b.pattern.length - a.pattern.length)
    .map((price) => ({ price, regexp: globToRegExp(price.pattern) }))
  const resolved = new Map<string, ModelPrice | undefined>()
  const priceOf = (model: string) => {
    if (!resolved.has(model)) {
      if (resolved.size > 10_000) resolved.clear()
      resolved.set(model, exact.get(model) ?? globs.find((glob) => glob.regexp.test(model))?.price)
    }
    return resolved.get(model)
  }
  return (model, promptTokens, completionTokens, images = 0) => {
    const price = model ? priceOf(model) : undefined
    return price ? (promptTokens * price.input + completionTokens * price.output) / 1_000_000 + images * price.image : 0
  }
}

/** The runtime's prices (MODEL_PRICES), resolved once: the request log and budgets price alike. */
export const pricesOf = perRuntime((rt) => Object.assign(pricing(rt.config.modelPrices), { close() {} }))
