// The server's log lines: LOG_FORMAT=text prints them as ever; LOG_FORMAT=json prints each as one
// JSON object on stdout ({"time","level","msg"}, for log shippers), every console.* call of the
// process included, plus one line per API request (request id, route, status, latency, model,
// user id, outcome), which the text format prints only with DEBUG. LOG_LEVEL (debug, info, warn,
// error; default info) drops the lines below it in either format.
import { format } from 'node:util'
import type { Config } from '../config'

const LEVELS = ['debug', 'info', 'warn', 'error'] as const
type Level = (typeof LEVELS)[number]

type LogSettings = Pick<Config, 'logFormat' | 'logLevel' | 'debug'>

const shown = (settings: LogSettings, level: Level) => LEVELS.indexOf(level) >= LEVELS.indexOf(settings.logLevel)

function writeJson(level: Level, msg: string, fields?: Record<string, unknown>) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`)
}

/** Which level each console method logs at. */
const CONSOLE_LEVELS = { debug: 'debug', log: 'info', info: 'info', warn: 'warn', error: 'error' } as const

/** Makes console.* follow LOG_FORMAT and LOG_LEVEL: called once by `serve`, before anything is logged. */
export function useLogSettings(settings: LogSettings) {
  for (const [method, level] of Object.entries(CONSOLE_LEVELS) as [keyof typeof CONSOLE_LEVELS, Level][]) {
    const original = console[method].bind(console)
    console[method] = !shown(settings, level)
      ? () => {}
      : settings.logFormat === 'json'
        ? (...args: unknown[]) => writeJson(level, format(...args))
        : original
  }
}

/** What the request log knows of a request once it is over (a LogRow fits). */
export type LoggedRequest = {
  requestId: string
  method: string
  path: string
  status: number
  latencyMs: number
  outcome: string
  errorType: string | null
  model: string | null
  userId: string | null
}

/** Prints a line per API request (JSON always, text with DEBUG); undefined when none is printed. */
export function requestLines(settings: LogSettings): ((request: LoggedRequest) => void) | undefined {
  if (settings.logFormat === 'json')
    return (r) => {
      const level = r.status >= 500 ? 'error' : 'info'
      if (!shown(settings, level)) return
      writeJson(level, `${r.method} ${r.path} ${r.status}`, {
        request_id: r.requestId,
        method: r.method,
        route: r.path,
        status: r.status,
        latency_ms: Math.round(r.latencyMs * 10) / 10,
        model: r.model,
        user_id: r.userId,
        outcome: r.outcome,
        error_type: r.errorType,
      })
    }
  // DEBUG: an access log line on stdout as well (no query string, no body, no credentials).
  if (settings.debug)
    return (r) => console.log(`${r.method} ${r.path} ${r.status} ${r.latencyMs.toFixed(1)}ms ${r.outcome}${r.model ? ` ${r.model}` : ''}`)
  return undefined
}
