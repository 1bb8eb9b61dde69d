// What the API-keys tests check or change below the store interface: the stored hash, and a
// key's expiry moved into the past (no API sets it there). The one place their SQL lives.
import type { Runtime } from '../../src/runtime'

export const storedKeyHash = (rt: Runtime, id: string) =>
  rt.db.query<{ key_hash: string }, [string]>('SELECT key_hash FROM api_keys WHERE id = ?').get(id)?.key_hash

export const expireKey = (rt: Runtime, id: string, at = Date.now() - 1) =>
  void rt.db.query('UPDATE api_keys SET expires_at = ? WHERE id = ?').run(at, id)
