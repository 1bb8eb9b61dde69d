// The numbered migrations, imported as text so that `bun build --compile` embeds them.
// A new migration is a new file in db/migrations/ and a new line here.
import init from '../../db/migrations/0001_init.sql' with { type: 'text' }
import rollups from '../../db/migrations/0003_rollups.sql' with { type: 'text' }
import emailVerified from '../../db/migrations/0004_email_verified.sql' with { type: 'text' }
import logsByUser from '../../db/migrations/0005_logs_by_user.sql' with { type: 'text' }
import signInUnblocks from '../../db/migrations/0006_sign_in_unblocks.sql' with { type: 'text' }

export const migrations: { name: string; sql: string }[] = [
  { name: '0001_init', sql: init },
  { name: '0003_rollups', sql: rollups },
  { name: '0004_email_verified', sql: emailVerified },
  { name: '0005_logs_by_user', sql: logsByUser },
  { name: '0006_sign_in_unblocks', sql: signInUnblocks },
]
