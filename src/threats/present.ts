// A threat as the admin API shows it: the principal as one object (or null), ISO dates.
import { iso } from '../http/schema'
import type { Threat } from './store'

export function presentThreat(threat: Threat) {
  return {
    id: threat.id,
    type: threat.type,
    severity: threat.severity,
    principal: threat.userId ? { userId: threat.userId, apiKeyId: threat.apiKeyId } : null,
    address: threat.address,
    detail: threat.detail,
    createdAt: iso(threat.createdAt)!,
    resolved: threat.resolved,
    resolvedBy: threat.resolvedBy,
    resolvedAt: iso(threat.resolvedAt),
  }
}

export type PresentedThreat = ReturnType<typeof presentThreat>
