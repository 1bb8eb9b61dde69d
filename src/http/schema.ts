// Schema helpers shared by the features.
import { t, type TSchema } from 'elysia'

/**
 * One of a fixed set of strings. Used instead of `t.UnionEnum`, which Elysia 1.4 fills with
 * its first value when an optional query field is absent (`?` → `{severity: 'low'}`).
 */
export const oneOf = <const T extends readonly string[]>(values: T) =>
  t.Union(values.map((value) => t.Literal(value)) as [ReturnType<typeof t.Literal<T[number]>>], {
    error: `must be one of ${values.join(', ')}`,
  })

/**
 * A JSON integer in a body. Elysia's `t.Integer` also takes numeric strings, through a transform
 * that makes every request pay for a full (uncompiled) decode of the body. (Query and path
 * parameters are strings: there `t.Integer` is the right converter.)
 */
export const integer = (options: Parameters<typeof t.Number>[0] = {}) => t.Number({ multipleOf: 1, ...options })

/** OpenAI clients send `null` for "not set"; a field's own error message still names what it expects. */
export const nullable = <T extends TSchema>(schema: T) =>
  t.Optional(t.Union([schema, t.Null()], 'error' in schema ? { error: schema.error } : {}))

/** A list's page size, as a query parameter. */
export const pageLimit = t.Optional(
  t.Integer({ minimum: 1, maximum: 200, description: 'page size (default 50, at most 200)', error: 'limit must be an integer from 1 to 200' }),
)

/** A list's keyset cursor when its items have integer ids: the `nextCursor` of the page before. */
export const integerCursor = t.Optional(t.Integer({ minimum: 1, error: 'cursor must be a positive integer' }))

/** A stored ms-epoch time as the API shows it. */
export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A keyset page: a full page carries the cursor of its last item; a short one is the last. */
export const withCursor = <P extends { items: { id: string | number }[] }>(page: P, size: number) => ({
  ...page,
  nextCursor: (page.items.length === size ? page.items.at(-1)!.id : null) as P['items'][number]['id'] | null,
})
