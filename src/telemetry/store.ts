// The request log's store: its interface and types are defined in src/db/stores/telemetry.ts
// (below the runtime, so that the Store type can name them without an import cycle) and
// re-exported here; the runtime holds the implementation as `rt.store.telemetry`
// (SQLite: src/db/sqlite/telemetry.ts). Writes go through the batching writer (./writer.ts).
export type { LogRow, Outcome, TelemetryStore } from '../db/stores/telemetry'
