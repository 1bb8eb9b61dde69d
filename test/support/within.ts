// "Seen everywhere within a bound": polls a condition until it holds, and fails if it did not
// within `ms` of `since` (performance.now() when the change was answered).

/** The bound on how late a change made through one replica is enforced by the others. */
export const PROPAGATION_MS = 1_000

export async function within(ms: number, since: number, what: string, holds: () => Promise<boolean>) {
  for (;;) {
    if (await holds()) return
    if (performance.now() - since > ms) throw new Error(`${what}: not within ${ms} ms`)
    await Bun.sleep(20)
  }
}
