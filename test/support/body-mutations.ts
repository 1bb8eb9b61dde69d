// Mutations of a valid request body for the fuzz tests (test/*-fuzz.test.ts): at a path into the
// body, a key set to an odd value or removed. Each test gives its own body, paths, keys and values.
import fc from 'fast-check'

export type Mutation = { path: readonly (string | number)[]; key: string; value: unknown; remove: boolean }

/** The arbitrary of one mutation among the given paths, keys and values. */
export const mutationOf = (paths: fc.Arbitrary<readonly (string | number)[]>, keys: fc.Arbitrary<string>, values: fc.Arbitrary<unknown>) =>
  fc.record({ path: paths, key: keys, value: values, remove: fc.boolean() })

/** A copy of `valid` with the mutations made, one after another. */
export function mutate(valid: unknown, mutations: Mutation[]): unknown {
  const body: any = structuredClone(valid)
  for (const { path, key, value, remove } of mutations) {
    let target = body
    for (const step of path) target = target?.[step]
    if (target === null || typeof target !== 'object') continue
    const slot = Array.isArray(target) && /^\d+$/.test(key) ? Number(key) : key
    try {
      if (remove) delete target[slot]
      // A copy: fast-check hands out the same [] and {} every time, and a later mutation could
      // otherwise reach into them, across runs, until one holds itself.
      else Object.defineProperty(target, slot, { value: structuredClone(value), enumerable: true, writable: true, configurable: true })
    } catch {
      // e.g. an array's length: not a mutation worth sending
    }
  }
  return body
}
