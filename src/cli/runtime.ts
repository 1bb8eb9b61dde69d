// The runtime of a command-line tool. Unlike the server it has no one else to serve, so its
// statements may wait for another process's write lock (a running server's) as long as start-up does.
import { loadConfig } from '../config'
import { COMMAND_BUSY_TIMEOUT_MS } from '../db/busy'
import { startRuntime } from '../runtime'

export const commandRuntime = () => startRuntime(loadConfig(), { busyTimeoutMs: COMMAND_BUSY_TIMEOUT_MS })
