// The audit trail as a download (GET /api/admin/audit/export): CSV (./csv.ts) or a JSON array,
// streamed a page of entries at a time, so that there is no size cap and memory stays flat
// however many entries match.
import type { Runtime } from '../runtime'
import { csvHeader, csvRow } from './csv'
import { auditEntries, auditView, type AuditQuery } from './service'

/** The export as a stream of text, a page of entries at a time: no size cap, and memory stays flat however many there are. */
export function exportStream(rt: Runtime, query: AuditQuery, format: 'csv' | 'json'): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const entries = auditEntries(rt, query)
  let first = true
  return new ReadableStream({
    async start(controller) {
      controller.enqueue(encoder.encode(format === 'csv' ? csvHeader() : '['))
    },
    async pull(controller) {
      const { value, done } = await entries.next()
      if (done) {
        if (format === 'json') controller.enqueue(encoder.encode(first ? ']' : '\n]\n'))
        controller.close()
        return
      }
      const text = format === 'csv' ? csvRow(value) : `${first ? '\n' : ',\n'}${JSON.stringify(auditView(value))}`
      first = false
      controller.enqueue(encoder.encode(text))
    },
    async cancel() {
      await entries.return(undefined)
    },
  })
}

