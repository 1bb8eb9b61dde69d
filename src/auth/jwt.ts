// The access-token signer and verifier: HS256 with the server's secret key, nothing else accepted.
import { jwt } from '@elysiajs/jwt'
import { t } from 'elysia'

export const accessClaims = t.Object({
  sub: t.String(),
  role: t.Union([t.Literal('admin'), t.Literal('user')]),
  sid: t.String(),
  jti: t.String(),
  typ: t.Literal('access'),
})

export const accessTokens = (secretKey: string, minutes: number) =>
  jwt({ name: 'accessToken', secret: secretKey, alg: 'HS256', exp: `${minutes}m`, schema: accessClaims })

export type AccessClaims = typeof accessClaims.static

/** Signs access tokens; routes pass the `accessToken` decorator's `sign` to the services. */
export type Signer = (claims: AccessClaims) => Promise<string>
