// The models the hosts serve, as OpenAI model objects plus the studio's `displayLabel`,
// `contextLength`, `capabilities` and `metadata`. Names and details come from the background
// check's /api/tags; context length and capabilities from /api/show, cached by model digest
// (a digest names one exact build of a model, so the cache never goes stale).
import type { ModelResponse, ShowResponse } from 'ollama/browser'
import { HttpError } from '../http/errors'
import type { Pool } from './pool'
import type { ModelObject } from './schemas'
import { modelNotFound } from './failures'
import { canonicalModel, type Host } from './host'

type Shown = { contextLength: number | null; capabilities: string[] }

function contextLengthOf(info: Record<string, unknown> | undefined): number | null {
  if (!info) return null
  const arch = info['general.architecture']
  const value = info[`${arch}.context_length`]
  return typeof value === 'number' ? value : null
}

/** /api/show of one build (its digest names it); a failure is not cached, so the next listing asks again. */
function show(shown: Map<string, Promise<Shown>>, host: Extract<Host, { kind: 'ollama' }>, model: ModelResponse): Promise<Shown> {
  const build = `${model.name}@${model.digest ?? model.modified_at}`
  let entry = shown.get(build)
  if (!entry) {
    entry = host.client.show({ model: model.name }).then(
      (info: ShowResponse) => ({
        contextLength: contextLengthOf(info.model_info as unknown as Record<string, unknown>),
        capabilities: Array.isArray(info.capabilities) ? info.capabilities : [],
      }),
      (error) => {
        shown.delete(build)
        throw error
      },
    )
    shown.set(build, entry)
  }
  return entry.catch(() => ({ contextLength: null, capabilities: [] }))
}

async function toModelObject(shown: Map<string, Promise<Shown>>, name: string, host: Host): Promise<ModelObject> {
  const model = host.models.get(name)!
  const id = model.name
  // A server speaking OpenAI's API says nothing of its models but their names; what they do is configured.
  if (host.kind === 'openai')
    return { id, object: 'model', created: Math.floor(new Date(model.modified_at).getTime() / 1000), owned_by: host.name, displayLabel: id, contextLength: null, capabilities: host.capabilities, metadata: { family: '', format: '', parameterSize: '', quantizationLevel: '' } }
  const details = model.details ?? ({} as ModelResponse['details'])
  const { contextLength, capabilities } = await show(shown, host, model)
  const metadata = {
    family: details.family ?? '',
    format: (details.format ?? '').toUpperCase(),
    parameterSize: details.parameter_size ?? '',
    quantizationLevel: details.quantization_level ?? '',
  }
  const modified = Date.parse(String(model.modified_at))
  return {
    id,
    object: 'model',
    created: Number.isFinite(modified) ? Math.floor(modified / 1000) : 0,
    owned_by: 'library',
    displayLabel: [metadata.family, metadata.format, metadata.parameterSize, metadata.quantizationLevel].filter(Boolean).join(' ') || id,
    contextLength,
    capabilities,
    metadata,
  }
}

function noHostReachable(pool: Pool) {
  return new HttpError(503, `No Ollama host is reachable (${pool.hosts.map((host) => host.url).join(', ')})`, {
    code: 'upstream_unreachable',
  })
}

export function modelCatalog(pool: Pool) {
  const shown = new Map<string, Promise<Shown>>()
  return {
    async list(): Promise<ModelObject[]> {
      const byName = await pool.models()
      if (!pool.hosts.some((host) => host.reachable)) throw noHostReachable(pool)
      const names = [...byName.keys()].sort()
      return Promise.all(names.map((name) => toModelObject(shown, name, byName.get(name)![0]!)))
    },
    async get(id: string): Promise<ModelObject> {
      const name = canonicalModel(id)
      const hosts = (await pool.models()).get(name)
      if (hosts) return toModelObject(shown, name, hosts[0]!)
      if (!pool.hosts.some((host) => host.reachable)) throw noHostReachable(pool)
      throw modelNotFound()
    },
  }
}
