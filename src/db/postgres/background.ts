// Writes a request must not wait for (when an API key or a session was last used, threat rows),
// on PostgreSQL: started at once and not awaited by the request. PostgreSQL has no whole-database
// lock to wait out, so there is nothing to keep and retry as on SQLite (../sqlite/deferred.ts); a write
// that fails is reported. Closing the store waits for the writes still running.
export class BackgroundWrites {
  private readonly running = new Set<Promise<unknown>>()

  /** Starts `write` now; `label` names it if it fails. */
  add(write: () => Promise<unknown>, label: string) {
    const done: Promise<unknown> = write()
      .catch((error: unknown) => console.error(`database write (${label}) failed:`, (error as Error).message))
      .finally(() => this.running.delete(done))
    this.running.add(done)
  }

  async drain() {
    while (this.running.size) await Promise.all(this.running)
  }
}
