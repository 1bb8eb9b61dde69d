// The numbered migrations, imported as text so that `bun build --compile` embeds them.
// A new migration is a new file in db/migrations/ and a new line here.
import init from '../../db/migrations/0001_init.sql' with { type: 'text' }
import rollups from '../../db/migrations/0003_rollups.sql' with { type: 'text' }

export const migrations: { name: string; sql: string }[] = [
  { name: '0001_init', sql: init },
  { name: '0003_rollups', sql: rollups },
]
