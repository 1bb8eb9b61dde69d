// The acts the audit trail records, as `subject.verb`. One list, so that the admin API's filter
// and the sites that record them agree.
export const AUDIT_ACTIONS = [
  'sign_in.succeeded',
  'sign_in.failed',
  'user.role_changed',
  'user.activated',
  'user.deactivated',
  'user.deleted',
  'user.concurrency_cap_set',
  'api_key.created',
  'api_key.revoked',
  'api_key.first_used',
  'api_key.concurrency_cap_set',
  'threat.resolved',
  'sign_in_block.lifted',
  'budget.set',
  'budget.removed',
  'budget.exhausted',
  'api_key.limits_set',
] as const

export type AuditAction = (typeof AUDIT_ACTIONS)[number]
