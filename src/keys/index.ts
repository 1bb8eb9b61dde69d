// The API-keys feature: a signed-in user mints, lists and revokes their own keys. A key works
// wherever a JWT does (`Authorization: Bearer sk-studio-…`), so OpenAI SDKs can use it.
import { Elysia, t } from 'elysia'
import { authGuard } from '../auth/guard'
import type { Runtime } from '../runtime'
import { ApiKeyList, CreatedApiKey, NewKeyRequest } from './model'
import { createApiKey, listKeys, revokeKey } from './service'
import { originOf } from '../audit/service'

const tags = ['keys']

export const keys = (rt: Runtime) =>
  new Elysia({ name: 'keys', prefix: '/api/keys' })
    .use(authGuard(rt))
    .post(
      '',
      async (context) => {
        context.set.status = 201
        return createApiKey(rt, context.principal, context.body, originOf(rt, context, context.principal))
      },
      {
        auth: true,
        body: NewKeyRequest,
        response: { 201: CreatedApiKey },
        detail: { summary: 'Create an API key (the secret is in this response only)', tags },
      },
    )
    .get('', ({ principal }) => listKeys(rt, principal.userId), {
      auth: true,
      response: ApiKeyList,
      detail: { summary: 'Your API keys, without their secrets', tags },
    })
    .delete(
      '/:id',
      async (context) => {
        await revokeKey(rt, context.principal.userId, context.params.id, originOf(rt, context, context.principal))
        context.set.status = 204
      },
      { auth: true, params: t.Object({ id: t.String() }), detail: { summary: 'Revoke one of your API keys', tags } },
    )
