// The numbered migrations of each dialect, imported as text so that `bun build --compile` embeds
// them. Both dialects carry the same numbers: a new migration is a file in db/migrations/sqlite/
// and one in db/migrations/postgres/, and a line in each list here.
import sqliteInit from '../../db/migrations/sqlite/0001_init.sql' with { type: 'text' }
import sqliteRollups from '../../db/migrations/sqlite/0003_rollups.sql' with { type: 'text' }
import sqliteEmailVerified from '../../db/migrations/sqlite/0004_email_verified.sql' with { type: 'text' }
import sqliteLogsByUser from '../../db/migrations/sqlite/0005_logs_by_user.sql' with { type: 'text' }
import sqliteSignInUnblocks from '../../db/migrations/sqlite/0006_sign_in_unblocks.sql' with { type: 'text' }
import sqliteThreatRollupAndList from '../../db/migrations/sqlite/0007_threat_rollup_and_list.sql' with { type: 'text' }
import sqliteAdminListFilters from '../../db/migrations/sqlite/0008_admin_list_filters.sql' with { type: 'text' }
import sqliteThreatsByType from '../../db/migrations/sqlite/0009_threats_by_type.sql' with { type: 'text' }
import sqliteResponseCache from '../../db/migrations/sqlite/0010_response_cache.sql' with { type: 'text' }
import sqliteLogsIndexUnused from '../../db/migrations/sqlite/0011_logs_index_unused.sql' with { type: 'text' }
import sqliteConversations from '../../db/migrations/sqlite/0012_conversations.sql' with { type: 'text' }
import sqliteConversationSearch from '../../db/migrations/sqlite/0013_conversation_search.sql' with { type: 'text' }
import sqliteLogCallerLabels from '../../db/migrations/sqlite/0014_log_caller_labels.sql' with { type: 'text' }
import sqliteLogImages from '../../db/migrations/sqlite/0015_log_images.sql' with { type: 'text' }
import sqliteResponses from '../../db/migrations/sqlite/0016_responses.sql' with { type: 'text' }
import sqliteKeyScopes from '../../db/migrations/sqlite/0017_key_scopes.sql' with { type: 'text' }
import sqliteConcurrencyCaps from '../../db/migrations/sqlite/0018_concurrency_caps.sql' with { type: 'text' }
import sqliteAudit from '../../db/migrations/sqlite/0019_audit.sql' with { type: 'text' }
import sqliteBudgets from '../../db/migrations/sqlite/0020_budgets.sql' with { type: 'text' }
import sqliteKeyLimits from '../../db/migrations/sqlite/0021_key_limits.sql' with { type: 'text' }
import postgresInit from '../../db/migrations/postgres/0001_init.sql' with { type: 'text' }
import postgresRollups from '../../db/migrations/postgres/0003_rollups.sql' with { type: 'text' }
import postgresEmailVerified from '../../db/migrations/postgres/0004_email_verified.sql' with { type: 'text' }
import postgresLogsByUser from '../../db/migrations/postgres/0005_logs_by_user.sql' with { type: 'text' }
import postgresSignInUnblocks from '../../db/migrations/postgres/0006_sign_in_unblocks.sql' with { type: 'text' }
import postgresThreatRollupAndList from '../../db/migrations/postgres/0007_threat_rollup_and_list.sql' with { type: 'text' }
import postgresAdminListFilters from '../../db/migrations/postgres/0008_admin_list_filters.sql' with { type: 'text' }
import postgresThreatsByType from '../../db/migrations/postgres/0009_threats_by_type.sql' with { type: 'text' }
import postgresResponseCache from '../../db/migrations/postgres/0010_response_cache.sql' with { type: 'text' }
import postgresLogsIndexUnused from '../../db/migrations/postgres/0011_logs_index_unused.sql' with { type: 'text' }
import postgresConversations from '../../db/migrations/postgres/0012_conversations.sql' with { type: 'text' }
import postgresConversationSearch from '../../db/migrations/postgres/0013_conversation_search.sql' with { type: 'text' }
import postgresLogCallerLabels from '../../db/migrations/postgres/0014_log_caller_labels.sql' with { type: 'text' }
import postgresLogImages from '../../db/migrations/postgres/0015_log_images.sql' with { type: 'text' }
import postgresResponses from '../../db/migrations/postgres/0016_responses.sql' with { type: 'text' }
import postgresKeyScopes from '../../db/migrations/postgres/0017_key_scopes.sql' with { type: 'text' }
import postgresConcurrencyCaps from '../../db/migrations/postgres/0018_concurrency_caps.sql' with { type: 'text' }
import postgresAudit from '../../db/migrations/postgres/0019_audit.sql' with { type: 'text' }
import postgresBudgets from '../../db/migrations/postgres/0020_budgets.sql' with { type: 'text' }
import postgresKeyLimits from '../../db/migrations/postgres/0021_key_limits.sql' with { type: 'text' }

export type Migration = { name: string; sql: string }

export const migrations: Record<'sqlite' | 'postgres', Migration[]> = {
  sqlite: [
    { name: '0001_init', sql: sqliteInit },
    { name: '0003_rollups', sql: sqliteRollups },
    { name: '0004_email_verified', sql: sqliteEmailVerified },
    { name: '0005_logs_by_user', sql: sqliteLogsByUser },
    { name: '0006_sign_in_unblocks', sql: sqliteSignInUnblocks },
    { name: '0007_threat_rollup_and_list', sql: sqliteThreatRollupAndList },
    { name: '0008_admin_list_filters', sql: sqliteAdminListFilters },
    { name: '0009_threats_by_type', sql: sqliteThreatsByType },
    { name: '0010_response_cache', sql: sqliteResponseCache },
    { name: '0011_logs_index_unused', sql: sqliteLogsIndexUnused },
    { name: '0012_conversations', sql: sqliteConversations },
    { name: '0013_conversation_search', sql: sqliteConversationSearch },
    { name: '0014_log_caller_labels', sql: sqliteLogCallerLabels },
    { name: '0015_log_images', sql: sqliteLogImages },
    { name: '0016_responses', sql: sqliteResponses },
    { name: '0017_key_scopes', sql: sqliteKeyScopes },
    { name: '0018_concurrency_caps', sql: sqliteConcurrencyCaps },
    { name: '0019_audit', sql: sqliteAudit },
    { name: '0020_budgets', sql: sqliteBudgets },
    { name: '0021_key_limits', sql: sqliteKeyLimits },
  ],
  postgres: [
    { name: '0001_init', sql: postgresInit },
    { name: '0003_rollups', sql: postgresRollups },
    { name: '0004_email_verified', sql: postgresEmailVerified },
    { name: '0005_logs_by_user', sql: postgresLogsByUser },
    { name: '0006_sign_in_unblocks', sql: postgresSignInUnblocks },
    { name: '0007_threat_rollup_and_list', sql: postgresThreatRollupAndList },
    { name: '0008_admin_list_filters', sql: postgresAdminListFilters },
    { name: '0009_threats_by_type', sql: postgresThreatsByType },
    { name: '0010_response_cache', sql: postgresResponseCache },
    { name: '0011_logs_index_unused', sql: postgresLogsIndexUnused },
    { name: '0012_conversations', sql: postgresConversations },
    { name: '0013_conversation_search', sql: postgresConversationSearch },
    { name: '0014_log_caller_labels', sql: postgresLogCallerLabels },
    { name: '0015_log_images', sql: postgresLogImages },
    { name: '0016_responses', sql: postgresResponses },
    { name: '0017_key_scopes', sql: postgresKeyScopes },
    { name: '0018_concurrency_caps', sql: postgresConcurrencyCaps },
    { name: '0019_audit', sql: postgresAudit },
    { name: '0020_budgets', sql: postgresBudgets },
    { name: '0021_key_limits', sql: postgresKeyLimits },
  ],
}
