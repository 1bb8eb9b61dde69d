// A bare Bun pass-through proxy: forwards the request to the fake's OpenAI-compatible endpoint
// and pipes its SSE body back untouched, with no auth, validation, translation or logging. The
// benchmark runs it as the floor of what any Bun gateway in front of that upstream can reach.
// `bun bench/passthrough.ts --port N --upstream URL`
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } })

Bun.serve({
  port: Number(values.port),
  hostname: '127.0.0.1',
  async fetch(request) {
    const url = new URL(request.url)
    const body = request.method === 'POST' ? await request.arrayBuffer() : undefined
    const upstream = await fetch(`${values.upstream}${url.pathname}`, { method: request.method, headers: request.headers, body })
    return new Response(upstream.body, { status: upstream.status, headers: { 'content-type': upstream.headers.get('content-type') ?? 'text/event-stream' } })
  },
})
// Ends cleanly when the bench stops it, so that `bun --cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0))
