// The store of populate-dashboard-data: the accounts and threats it makes up, and removing
// every row it made (generated = 1) while leaving real data alone. It lives in src/db/ rather
// than src/populate/ because src/db/store.ts needs it and the generator builds on telemetry,
// which imports the runtime, which imports src/db/: the interface there would make an import
// cycle (test/import-cycles.test.ts). For the same reason the generated requests and ratings
// are not written here but through telemetry's and feedback's own writes, as real traffic is.

export type MockUser = { id: string; email: string; name: string; createdAt: number }

export type MockSession = {
  id: string
  userId: string
  provider: string
  ip: string
  userAgent: string
  country: string | null
  createdAt: number
}

export type MockThreat = {
  /** One of THREAT_TYPES (src/threats/store.ts). */
  type: string
  /** One of SEVERITIES (src/threats/store.ts). */
  severity: string
  userId: string | null
  address: string
  detail: string
  createdAt: number
  resolvedAt: number | null
}

/** What removing the generated accounts and threats took away, and the generated users kept. */
export type RemovedAccounts = { threats: number; sessions: number; users: number; kept: number }

export interface PopulateStore {
  /** Adds generated users and their sessions, in one transaction. */
  insertAccounts(users: MockUser[], sessions: MockSession[]): Promise<void>
  /** Adds generated threats, in one transaction. */
  insertThreats(threats: MockThreat[]): Promise<void>
  /**
   * Removes the generated threats, sessions and users, in one transaction. A generated user who
   * has since been used for real (an API key, a sign-in, a rating, a request) is kept: deleting
   * them would take that real data with them. Run after the generated requests and ratings are gone.
   */
  deleteGeneratedAccounts(): Promise<RemovedAccounts>
}
