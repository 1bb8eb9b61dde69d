// Builds a WHERE clause from optional filters, with positional parameters.

export type SqlArgs = (string | number)[]

export const whereOf = (clauses: string[]) => (clauses.length ? `WHERE ${clauses.join(' AND ')}` : '')
