// An OpenTelemetry collector's OTLP/HTTP trace receiver on 127.0.0.1, for the tracing tests: it
// takes what the SDK's exporter posts to /v1/traces (OTLP's JSON encoding: resourceSpans →
// scopeSpans → spans, ids as hex, attributes as typed values; gzipped when the exporter says so)
// and keeps every span, flattened, and each post's headers.

export type ReceivedSpan = {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  kind: number
  attributes: Record<string, unknown>
  status: { code?: number }
  resource: Record<string, unknown>
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: AnyValue[] } }
type KeyValue = { key: string; value: AnyValue }

const valueOf = (value: AnyValue): unknown =>
  value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue ?? value.arrayValue?.values?.map(valueOf)

const attributesOf = (list: KeyValue[] = []) => Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]))

export async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = []
  const posts: { contentType: string | null; contentEncoding: string | null; headers: Headers }[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const { pathname } = new URL(request.url)
      if (request.method !== 'POST' || pathname !== '/v1/traces') return new Response('not found', { status: 404 })
      const contentEncoding = request.headers.get('content-encoding')
      posts.push({ contentType: request.headers.get('content-type'), contentEncoding, headers: request.headers })
      const bytes = await request.bytes()
      const text = new TextDecoder().decode(contentEncoding === 'gzip' ? Bun.gunzipSync(bytes) : bytes)
      const body = JSON.parse(text) as { resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: any[] }[] }[] }
      for (const resourceSpans of body.resourceSpans ?? []) {
        const resource = attributesOf(resourceSpans.resource?.attributes)
        for (const scope of resourceSpans.scopeSpans ?? [])
          for (const span of scope.spans ?? [])
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              name: span.name,
              kind: span.kind,
              attributes: attributesOf(span.attributes),
              status: span.status ?? {},
              resource,
            })
      }
      return Response.json({})
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    spans,
    posts,
    /** Waits until a received span matches (the exporter sends in batches). */
    async span(which: (span: ReceivedSpan) => boolean, timeoutMs = 5_000): Promise<ReceivedSpan> {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await Bun.sleep(20)) {
        const found = spans.find(which)
        if (found) return found
      }
      throw new Error(`no such span within ${timeoutMs} ms; received: ${spans.map((span) => span.name).join(', ')}`)
    },
    stop: () => server.stop(true),
  }
}
