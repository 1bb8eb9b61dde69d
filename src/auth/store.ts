// The accounts store: its interface and types are defined in src/db/stores/accounts.ts (below
// the runtime, so that the Store type can name them without an import cycle) and re-exported
// here; the runtime holds the implementation as `rt.store.accounts` (SQLite: src/db/sqlite/accounts.ts).
export type {
  AccountStore,
  ApiKeyHolder,
  NewRefreshToken,
  NewSession,
  NewUser,
  RefreshToken,
  Role,
  Rotation,
  SessionHolder,
  User,
  UserDeletion,
} from '../db/stores/accounts'
