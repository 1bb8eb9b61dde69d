// `populate-dashboard-data --clear`: removes everything the generator made and nothing else.
// The generated requests and ratings go first (taken out of their rollups by telemetry and
// feedback), then the threats, sessions and the generated users no real data refers to.
import type { Runtime } from '../runtime'

export async function clearGenerated(rt: Runtime) {
  const requests = await rt.store.telemetry.deleteGeneratedLogs()
  const feedback = await rt.store.feedback.deleteGenerated()
  const accounts = await rt.store.populate.deleteGeneratedAccounts()
  return { requests, feedback, ...accounts }
}
