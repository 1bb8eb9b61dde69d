// The threat monitor of each runtime, which the guard, the limits, sign-in and the chat's
// screening feed: made when first needed, stopped when the runtime closes.
import { perRuntime } from '../runtime'
import { threatMonitor } from './monitor'

export const threatMonitorOf = perRuntime((rt) => threatMonitor(rt.store.threats))
