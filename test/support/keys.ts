// What the API-keys tests check or change below the store interface: the stored hash, and a
// key's expiry moved into the past (no API sets it there). The one place their SQL lives.
import { principalCacheOf } from '../../src/auth/principal-cache'
import type { Runtime } from '../../src/runtime'
import { raw, timeValue } from './raw'

export const storedKeyHash = async (rt: Runtime, id: string) =>
  (await raw<{ key_hash: string }>(rt, 'SELECT key_hash FROM api_keys WHERE id = ?', id))[0]?.key_hash

/** Moves the key's expiry; made behind the services' back, so the principal cache is told, as they tell it. */
export async function expireKey(rt: Runtime, id: string, at = Date.now() - 1) {
  await raw(rt, 'UPDATE api_keys SET expires_at = ? WHERE id = ?', timeValue(rt, at), id)
  principalCacheOf(rt).forgetAll()
}

/**
 * When the key was last used, as stored, once it differs from `previous`: recording a use is
 * bookkeeping the request does not wait for (on PostgreSQL it lands a moment later). Gives up
 * after `timeoutMs` and returns what is stored then.
 */
export async function recordedLastUse(rt: Runtime, id: string, previous: number | null = null, timeoutMs = 2_000) {
  const read = async () => (await raw<{ at: number | null }>(rt, 'SELECT last_used_at AS at FROM api_keys WHERE id = ?', id))[0]?.at ?? null
  const deadline = Date.now() + timeoutMs
  let at = await read()
  while (at === previous && Date.now() < deadline) {
    await Bun.sleep(5)
    at = await read()
  }
  return at
}
