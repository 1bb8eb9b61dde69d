// Request and response schemas of the accounts API (camelCase, as the studio frontend reads them).
import { t } from 'elysia'
import { iso } from '../http/schema'
import { MAX_PASSWORD_LENGTH } from './passwords'
import type { User as StoredUser } from './store'

const email = t.String({ maxLength: 320, description: 'Trimmed and lower-cased before use' })
const password = t.String({ maxLength: MAX_PASSWORD_LENGTH })

// The `examples` are Swagger UI's "Try it out" bodies, and work as shown: register with
// Registration's, then sign in with the same account through Credentials'.
const exampleAccount = { email: 'ada@example.com', password: 'correct horse battery staple' }

export const Credentials = t.Object({ email, password }, { examples: [exampleAccount] })

export const Registration = t.Object({
  email,
  password: t.String({ maxLength: MAX_PASSWORD_LENGTH, description: 'At least 8 characters' }),
  name: t.Optional(t.String({ maxLength: 100 })),
}, { examples: [{ ...exampleAccount, name: 'Ada Lovelace' }] })

export const RefreshRequest = t.Object(
  { refreshToken: t.String({ minLength: 1, maxLength: 4096 }) },
  { examples: [{ refreshToken: 'paste-the-refreshToken-of-a-register-or-login-response' }] },
)

export const isoTime = t.String({ format: 'date-time' })

export const User = t.Object({
  id: t.String(),
  email: t.String(),
  name: t.String(),
  avatarUrl: t.Nullable(t.String()),
  role: t.Union([t.Literal('admin'), t.Literal('user')]),
  provider: t.String({ description: 'How the account was created: email, google, github, apple or oidc' }),
  createdAt: isoTime,
  lastLoginAt: t.Nullable(isoTime),
})

export const TokenPair = t.Object({
  accessToken: t.String({ description: 'JWT (HS256); send as `Authorization: Bearer …`' }),
  refreshToken: t.String({ description: 'Single use: each refresh returns a new one' }),
  expiresIn: t.Integer({ description: 'Access-token lifetime in seconds' }),
  user: User,
})

export type UserView = typeof User.static
export type TokenPairView = typeof TokenPair.static


export const userView = (user: StoredUser): UserView => ({
  id: user.id,
  email: user.email,
  name: user.name,
  avatarUrl: user.avatarUrl,
  role: user.role,
  provider: user.provider,
  createdAt: iso(user.createdAt)!,
  lastLoginAt: iso(user.lastLoginAt),
})
