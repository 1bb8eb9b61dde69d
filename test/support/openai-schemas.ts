// OpenAI's own schemas for its API's answers, so that a test can say "this is what OpenAI would
// answer" rather than check the fields it thought of: `expectConforms('Model', body)`.
//
// The schemas are ../shared/reference/openai-schemas.json (beside the repository, as CI places it):
// `components.schemas` of OpenAI's OpenAPI document, copied word for word, with its source commit
// and licence in ../shared/reference/README.md. They are compiled with Ajv's draft 2020-12 class
// (the dialect of OpenAPI 3.1) after rewriting the parts still written in older dialects, as that
// README lists them; nothing that constrains an answer is loosened.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020'
import addFormats from 'ajv-formats'

const SCHEMAS_FILE = join(import.meta.dir, '../../../shared/reference/openai-schemas.json')

type Schema = Record<string, unknown>

/** Keywords whose value is one schema, a list of schemas, or a map of names to schemas. */
const ONE_SCHEMA = new Set(['items', 'additionalProperties', 'unevaluatedProperties', 'unevaluatedItems', 'not', 'if', 'then', 'else', 'contains', 'propertyNames'])
const SCHEMA_LIST = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems'])
const SCHEMA_MAP = new Set(['properties', 'patternProperties', '$defs', 'dependentSchemas'])
/** OpenAPI's own keys, which say nothing about what is valid (`discriminator` only names the tag of a oneOf that already tells its branches apart). */
const OPENAPI_ONLY = new Set(['discriminator', 'example', 'xml', 'externalDocs'])

/**
 * One schema in draft 2020-12: `nullable: true` (OpenAPI 3.0's way to allow null, which Ajv refuses
 * without a `type` beside it) becomes `anyOf: [schema, {type: "null"}]`; draft 2019-09's
 * `$recursiveRef: "#"` becomes a `$ref` to the component that holds the `$recursiveAnchor` (only
 * CompoundFilter does: "ComparisonFilter or CompoundFilter"); OpenAPI-only and `x-*` keys go.
 */
function toDraft2020(schema: unknown, recursiveAnchor: string | undefined): unknown {
  if (typeof schema === 'boolean') return schema
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw new Error(`not a schema: ${JSON.stringify(schema)?.slice(0, 80)}`)
  const out: Schema = {}
  let nullable = false
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || OPENAPI_ONLY.has(key) || key === '$recursiveAnchor') continue
    if (key === 'nullable') nullable = value === true
    else if (key === '$recursiveRef') {
      if (value !== '#' || !recursiveAnchor) throw new Error(`$recursiveRef ${JSON.stringify(value)} outside a component with $recursiveAnchor`)
      out.$ref = recursiveAnchor
    } else if (ONE_SCHEMA.has(key) && typeof value === 'object' && !Array.isArray(value)) out[key] = toDraft2020(value, recursiveAnchor)
    else if (SCHEMA_LIST.has(key) || (key === 'items' && Array.isArray(value))) out[key] = (value as unknown[]).map((item) => toDraft2020(item, recursiveAnchor))
    else if (SCHEMA_MAP.has(key))
      out[key] = Object.fromEntries(Object.entries(value as Schema).map(([name, item]) => [name, toDraft2020(item, recursiveAnchor)]))
    else out[key] = value // enum, const, default, required, type, format, $ref, description…: data, not schemas
  }
  return nullable ? { anyOf: [out, { type: 'null' }] } : out
}

const ID = 'https://github.com/openai/openai-openapi/openapi.json'

function load() {
  if (!existsSync(SCHEMAS_FILE))
    throw new Error(`OpenAI's schemas are missing: ${SCHEMAS_FILE} (the shared reference folder belongs beside the repository)`)
  const file = JSON.parse(readFileSync(SCHEMAS_FILE, 'utf8')) as { _source: Schema; components: { schemas: Record<string, Schema> } }
  const schemas = Object.fromEntries(
    Object.entries(file.components.schemas).map(([name, schema]) => [
      name,
      toDraft2020(schema, schema.$recursiveAnchor === true ? `#/components/schemas/${name}` : undefined),
    ]),
  )
  const ajv = new Ajv2020({
    // Unknown keywords and formats are errors, so a dialect issue not rewritten above shows up here
    // instead of being silently ignored.
    strictSchema: true,
    // OpenAI's schemas leave out `type: "object"` beside `properties` (Model does) and list
    // `required` fields another branch defines: valid JSON Schema that only Ajv's lint dislikes.
    strictTypes: false,
    strictRequired: false,
    strictTuples: false,
    allErrors: true,
    verbose: true,
  })
  addFormats(ajv) // uri, date
  // The OpenAPI formats that ajv-formats does not know, checked for what their names promise.
  ajv.addFormat('unixtime', { type: 'number', validate: (seconds: number) => Number.isSafeInteger(seconds) && seconds >= 0 })
  ajv.addFormat('int64', { type: 'number', validate: (value: number) => Number.isSafeInteger(value) })
  ajv.addFormat('float', { type: 'number', validate: (value: number) => Number.isFinite(value) })
  // The file's own layout, so that its `$ref`s (#/components/schemas/X) resolve as they are.
  ajv.addKeyword('components')
  ajv.addSchema({ $id: ID, components: { schemas } })
  return { ajv, schemas, source: file._source }
}

let loaded: ReturnType<typeof load> | undefined
const openAi = () => (loaded ??= load())
const validators = new Map<string, ValidateFunction>()

/** The compiled validator of `components.schemas[name]`. */
export function validatorOf(name: string): ValidateFunction {
  let validate = validators.get(name)
  if (!validate) {
    const { ajv, schemas } = openAi()
    if (!Object.hasOwn(schemas, name)) throw new Error(`OpenAI's reference schemas have no ${name}`)
    validate = ajv.getSchema(`${ID}#/components/schemas/${name}`)!
    validators.set(name, validate)
  }
  return validate
}

/** Where the reference schemas come from (repository, commit, `info.version`). */
export const schemasSource = () => openAi().source

const excerpt = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}

/** Ajv's errors one per line: where in the answer, what OpenAI's schema wants there, and what it got. */
function readable(errors: ErrorObject[]): string {
  const lines = new Set<string>()
  for (const error of errors) {
    const where = error.instancePath || '(the answer)'
    const params = Object.entries(error.params)
      .filter(([key]) => key !== 'passingSchemas' && key !== 'type' && key !== 'format' && key !== 'missingProperty')
      .map(([key, value]) => `${key}: ${excerpt(value)}`)
    const wants = `${error.message}${params.length ? ` (${params.join(', ')})` : ''}`
    const got = error.keyword === 'required' ? '' : ` — got ${excerpt(error.data)}`
    lines.add(`  ${where}: ${wants}${got}   [schema ${error.schemaPath}]`)
  }
  return [...lines].join('\n')
}

/** Fails the test unless `value` is valid against OpenAI's `components.schemas[name]`; returns `value`. */
export function expectConforms<T>(name: string, value: T): T {
  const validate = validatorOf(name)
  if (!validate(value)) throw new Error(`Not a valid OpenAI ${name}:\n${readable(validate.errors ?? [])}\nThe answer: ${excerpt(value)}`)
  return value
}

/**
 * The fields of `value` that OpenAI's `name` does not define (the gateway's own additions, such as
 * the camelCase twins), as paths like `choices.0.finishReason`. A field counts as defined when any
 * branch of an anyOf/oneOf/allOf defines it, so this can only under-report; it answers "what do we
 * add", while `expectConforms` answers "is that allowed" (a schema with `additionalProperties:
 * false` makes the extra field fail there).
 */
export function undeclaredFields(name: string, value: unknown): string[] {
  const { schemas } = openAi()
  const resolve = (schema: unknown, seen = new Set<unknown>()): Schema[] => {
    if (!schema || typeof schema !== 'object' || seen.has(schema)) return []
    seen.add(schema)
    const s = schema as Schema
    const here: Schema[] = [s]
    if (typeof s.$ref === 'string') here.push(...resolve(schemas[s.$ref.replace('#/components/schemas/', '')], seen))
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) if (Array.isArray(s[key])) for (const branch of s[key]) here.push(...resolve(branch, seen))
    return here
  }
  const found: string[] = []
  const walk = (value: unknown, candidates: Schema[], path: string) => {
    if (Array.isArray(value)) {
      const items = candidates.flatMap((schema) => resolve(schema.items))
      value.forEach((item, index) => walk(item, items, `${path}${index}.`))
      return
    }
    if (value === null || typeof value !== 'object') return
    // A map such as `metadata` (additionalProperties: a schema) declares every key.
    const openMap = candidates.some((schema) => typeof schema.additionalProperties === 'object')
    for (const [key, field] of Object.entries(value)) {
      const declared = candidates.flatMap((schema) => resolve((schema.properties as Record<string, unknown> | undefined)?.[key]))
      if (declared.length) walk(field, declared, `${path}${key}.`)
      else if (!openMap) found.push(`${path}${key}`)
    }
  }
  walk(value, resolve(schemas[name]), '')
  return found
}
