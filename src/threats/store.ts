// The threat store: the threat log's vocabulary (types, severities), its interface and types
// are defined in src/db/stores/threats.ts (below the runtime, so that the Store type can name
// them without an import cycle) and re-exported here; the runtime holds the implementation as
// `rt.store.threats` (SQLite: src/db/sqlite/threats.ts).
export { SEVERITIES, THREAT_TYPES } from '../db/stores/threats'
export type { Severity, Threat, ThreatFilter, ThreatInput, ThreatStore, ThreatType, Unblock } from '../db/stores/threats'
