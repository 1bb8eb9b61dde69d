// Watches answers for floods of oversized (413) or malformed (400) requests from one address.
import { Elysia } from 'elysia'
import { addressKey, clientAddress } from '../http/client-address'
import type { Runtime } from '../runtime'
import { threatMonitorOf } from '.'

export const floodWatch = (rt: Runtime) => {
  const threats = threatMonitorOf(rt)
  return new Elysia({ name: 'flood-watch' }).onAfterResponse({ as: 'global' }, ({ set, request, server, path }) => {
    if (set.status !== 413 && set.status !== 400) return
    const address = clientAddress(request, server, rt.config.trustProxy)
    const oversized = set.status === 413
    threats.observe({
      type: oversized ? 'oversized_payload' : 'malformed_flood',
      key: address ? addressKey(address) : 'unknown',
      address,
      detail: `${oversized ? 'oversized' : 'malformed'} requests from ${address ?? 'an unknown address'}, last to ${request.method} ${path}`,
    })
  })
}
