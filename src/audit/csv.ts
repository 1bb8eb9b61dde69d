// The audit export as CSV (RFC 4180): a header row, then one row per entry; a field holding a
// comma, a quote or a line break is quoted, its quotes doubled. A field a spreadsheet would run
// as a formula (starting with = + - @, a tab or a carriage return) gets a leading apostrophe
// (OWASP's advice against CSV injection): an entry's values come partly from users (key names).
import type { StoredAuditEntry } from '../db/stores/audit'
import { iso } from '../http/schema'

export const CSV_COLUMNS = ['id', 'at', 'action', 'actorUserId', 'actorEmail', 'targetType', 'targetId', 'ip', 'requestId', 'before', 'after'] as const

export function csvField(value: string | number | null): string {
  if (value === null) return ''
  let text = String(value)
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export const csvLine = (fields: (string | number | null)[]) => `${fields.map(csvField).join(',')}\r\n`

export const csvHeader = () => csvLine([...CSV_COLUMNS])

export const csvRow = (entry: StoredAuditEntry) =>
  csvLine([
    entry.id,
    iso(entry.at),
    entry.action,
    entry.actorUserId,
    entry.actorEmail,
    entry.targetType,
    entry.targetId,
    entry.ip,
    entry.requestId,
    entry.before === null ? null : JSON.stringify(entry.before),
    entry.after === null ? null : JSON.stringify(entry.after),
  ])
