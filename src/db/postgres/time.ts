// Times between the stores' interfaces (ms since the epoch) and PostgreSQL's timestamptz, which
// Bun's SQL client takes and returns as a Date.

/** A time to bind as a timestamptz parameter. */
export const timestamp = (ms: number) => new Date(ms)

export const maybeTimestamp = (ms: number | null) => (ms === null ? null : new Date(ms))

/** A timestamptz as read, in ms since the epoch. */
export const msOf = (date: Date) => date.getTime()
