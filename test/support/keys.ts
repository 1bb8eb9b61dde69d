// What the API-keys tests check or change below the store interface: the stored hash, and a
// key's expiry moved into the past (no API sets it there). The one place their SQL lives.
import type { Runtime } from '../../src/runtime'
import { raw, timeValue } from './raw'

export const storedKeyHash = async (rt: Runtime, id: string) =>
  (await raw<{ key_hash: string }>(rt, 'SELECT key_hash FROM api_keys WHERE id = ?', id))[0]?.key_hash

export const expireKey = async (rt: Runtime, id: string, at = Date.now() - 1) =>
  void (await raw(rt, 'UPDATE api_keys SET expires_at = ? WHERE id = ?', timeValue(rt, at), id))
