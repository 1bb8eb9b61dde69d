// rollup_threats on PostgreSQL, where no trigger keeps it (SQLite's do): threats added (sign 1)
// or taken out (sign -1) per grain, bucket, type, severity and state, by increments in key order
// (./bulk.ts). For every writer of threat rows: the threat store and populate-dashboard-data.
import type { SQL } from 'bun'
import { floorTo } from '../../http/dates'
import { GRAINS } from '../rollups'
import { rollupUpsert } from './bulk'

export type CountedThreat = { type: string; severity: string; resolved: boolean; createdAt: number }

type ThreatCell = { grain: number; bucket: number; type: string; severity: string; resolved: boolean; threats: number }

const addCells = rollupUpsert<ThreatCell>(
  'rollup_threats',
  {
    grain: ['integer', (cell) => cell.grain],
    bucket: ['timestamptz', (cell) => cell.bucket],
    type: ['text', (cell) => cell.type],
    severity: ['text', (cell) => cell.severity],
    resolved: ['boolean', (cell) => cell.resolved],
  },
  { threats: ['bigint', (cell) => cell.threats] },
)

/** Adds the threats to rollup_threats (or takes them out); call inside the transaction that writes them. */
export function addToThreatRollup(tx: SQL, threats: CountedThreat[], sign: 1 | -1) {
  const cells = new Map<string, ThreatCell>()
  for (const threat of threats)
    for (const grain of GRAINS) {
      const bucket = floorTo(threat.createdAt, grain)
      const key = `${grain}\0${bucket}\0${threat.type}\0${threat.severity}\0${threat.resolved}`
      const cell = cells.get(key)
      if (cell) cell.threats += sign
      else cells.set(key, { grain, bucket, type: threat.type, severity: threat.severity, resolved: threat.resolved, threats: sign })
    }
  return addCells(tx, [...cells.values()])
}
