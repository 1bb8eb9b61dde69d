// The threat log's SQL.
import type { Database } from 'bun:sqlite'
import { whereOf, type SqlArgs } from '../db/where'
import { iso } from '../http/schema'

export const THREAT_TYPES = [
  'rate_limit',
  'brute_force',
  'invalid_token',
  'suspicious_content',
  'oversized_payload',
  'malformed_flood',
] as const
export type ThreatType = (typeof THREAT_TYPES)[number]
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]

export type ThreatInput = {
  type: ThreatType
  severity: Severity
  userId?: string
  apiKeyId?: string
  address?: string
  detail: string
}

type ThreatRow = {
  id: number
  type: ThreatType
  severity: Severity
  user_id: string | null
  api_key_id: string | null
  address: string | null
  detail: string
  created_at: number
  resolved: number
  resolved_by: string | null
  resolved_at: number | null
}


function present(row: ThreatRow) {
  return {
    id: row.id,
    type: row.type,
    severity: row.severity,
    principal: row.user_id ? { userId: row.user_id, apiKeyId: row.api_key_id } : null,
    address: row.address,
    detail: row.detail,
    createdAt: iso(row.created_at)!,
    resolved: row.resolved === 1,
    resolvedBy: row.resolved_by,
    resolvedAt: iso(row.resolved_at),
  }
}
export type Threat = ReturnType<typeof present>

export async function insertThreat(db: Database, threat: ThreatInput, now = Date.now()): Promise<number> {
  const result = db
    .query(
      `INSERT INTO threats (type, severity, user_id, api_key_id, address, detail, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      threat.type,
      threat.severity,
      threat.userId ?? null,
      threat.apiKeyId ?? null,
      threat.address ?? null,
      threat.detail.slice(0, 500),
      now,
    )
  return Number(result.lastInsertRowid)
}

export type ThreatFilter = { type?: ThreatType; severity?: Severity; resolved?: boolean; beforeId?: number; limit: number }

/** Newest first, paged by id (`beforeId` is the last id of the previous page). */
export async function listThreats(db: Database, filter: ThreatFilter) {
  const clauses: string[] = []
  const args: SqlArgs = []
  if (filter.type) clauses.push(`type = ?${args.push(filter.type)}`)
  if (filter.severity) clauses.push(`severity = ?${args.push(filter.severity)}`)
  if (filter.resolved !== undefined) clauses.push(`resolved = ?${args.push(filter.resolved ? 1 : 0)}`)
  const total = db.query<{ n: number }, SqlArgs>(`SELECT count(*) AS n FROM threats ${whereOf(clauses)}`).get(...args)!.n
  if (filter.beforeId !== undefined) clauses.push(`id < ?${args.push(filter.beforeId)}`)
  const rows = db
    .query<ThreatRow, SqlArgs>(`SELECT * FROM threats ${whereOf(clauses)} ORDER BY id DESC LIMIT ?${args.push(filter.limit)}`)
    .all(...args)
  return { total, items: rows.map(present) }
}

export async function resolveThreat(db: Database, id: number, resolvedBy: string, now = Date.now()): Promise<Threat | undefined> {
  db.query('UPDATE threats SET resolved = 1, resolved_by = ?, resolved_at = ? WHERE id = ? AND resolved = 0').run(
    resolvedBy,
    now,
    id,
  )
  const row = db.query<ThreatRow, [number]>('SELECT * FROM threats WHERE id = ?').get(id)
  return row ? present(row) : undefined
}
