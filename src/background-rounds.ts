// Work done now and then for as long as the runtime runs (retention of the request log and of
// the audit trail): a first round a second after start, then one every `everyMs` (a failed one
// again after `retryMs`), never two at once, none after the runtime closes.
import type { Runtime } from './runtime'

/** `round` returns false when it failed (it said why): the next one comes after `retryMs`. */
export function inRounds(rt: Runtime, round: (stopped: () => boolean) => Promise<boolean>, everyMs: number, retryMs = everyMs): void {
  let timer: Timer | undefined
  let stopped = false
  const run = async () => {
    const ok = await round(() => stopped)
    if (stopped) return
    timer = setTimeout(run, ok ? everyMs : retryMs)
    timer.unref()
  }
  timer = setTimeout(run, 1000)
  timer.unref()
  rt.onClose(() => {
    stopped = true
    clearTimeout(timer)
  })
}
