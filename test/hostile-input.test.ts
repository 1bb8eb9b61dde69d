// Hostile bodies and headers, through the HTTP surface: deep nesting refused before validation,
// other content types refused (a cross-site form cannot sign in or register), validation errors
// that never echo what was sent, lookalike emails and names, and uncacheable token responses.
import { afterAll, describe, expect, test } from 'bun:test'
import { threatMonitorOf } from '../src/threats'
import { startFakeOllama } from './support/fake-ollama'
import { testApp } from './support/app'
import { seedUser } from './support/users'

const fake = await startFakeOllama()
const { rt, call, close } = await testApp({ OLLAMA_BASE_URL: fake.url, RATE_LIMIT_CHAT: '3' })
afterAll(async () => {
  await close()
  fake.stop()
})

const raw = (path: string, body: string, headers: Record<string, string> = {}) =>
  call(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
const user = await seedUser(rt)
const hello = { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }

describe('bodies nested deeper than the limit → 400 before validation', () => {
  const bodies: [string, string][] = [
    ['30,000 nested arrays (60 KB)', nested(30_000)],
    ['nested arrays up to the body size limit', nested(500_000)],
    ['an object whose field nests 30,000 deep', `{"model":"m","messages":${nested(30_000)}}`],
    ['unclosed nesting', '{"a":' + '['.repeat(50_000)],
  ]
  test.each(bodies)('%s', async (_name, body) => {
    const res = await raw('/v1/chat/completions', body, { authorization: `Bearer ${user.apiKey}` })
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatchObject({ type: 'invalid_request_error', code: 'too_deep', message: 'The request body nests deeper than 100 levels' })
  })

  test('brackets inside strings are text, not nesting', async () => {
    const text = '['.repeat(5000) + '\\"{'.repeat(100)
    const res = await raw('/v1/chat/completions', JSON.stringify({ ...hello, messages: [{ role: 'user', content: text }] }), {
      authorization: `Bearer ${(await seedUser(rt)).apiKey}`,
    })
    expect(res.status).toBe(200)
  })

  test('strings and escapes split across chunks are followed from one chunk to the next', async () => {
    const streamed = (chunks: string[]) =>
      call('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.apiKey}` },
        body: new ReadableStream({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk))
            controller.close()
          },
        }),
        // @ts-expect-error Bun's RequestInit takes duplex for a streamed body
        duplex: 'half',
      })
    const text = JSON.stringify({ ...hello, messages: [{ role: 'user', content: `say \"${'['.repeat(300)}` }] })
    const escape = text.indexOf('\\')
    // Split right after the backslash, and again inside the brackets of the string.
    const ok = await streamed([text.slice(0, escape + 1), text.slice(escape + 1, escape + 150), text.slice(escape + 150)])
    expect(ok.status).toBe(200)
    const deep = nested(300)
    const refused = await streamed([deep.slice(0, 60), deep.slice(60, 120), deep.slice(120)])
    expect(refused.status).toBe(400)
    expect((await refused.json()).error.code).toBe('too_deep')
  })

  test('the refusal comes before sign-in routes validate anything, on /api too', async () => {
    const res = await raw('/api/auth/login/', nested(2_000))
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'Validation error', message: 'The request body nests deeper than 100 levels' })
  })

  test.each([['an array', '[1,2]'], ['a string', '"text"'], ['a number', '42'], ['null', 'null']])(
    'a body that is %s → 400 asking for a JSON object',
    async (_name, body) => {
      const res = await raw('/api/auth/login/', body)
      expect(res.status).toBe(400)
      expect((await res.json()).message).toBe('The request body must be a JSON object, sent with Content-Type: application/json')
    },
  )

  test('requests that fail validation count against the rate limit, as valid ones do', async () => {
    const limited = await seedUser(rt)
    const token = { authorization: `Bearer ${limited.apiKey}` }
    expect((await raw('/v1/chat/completions', '{"model": 1}', token)).status).toBe(400)
    expect((await raw('/v1/chat/completions', '{"model": "m", "messages": []}', token)).status).toBe(400)
    expect((await raw('/v1/chat/completions', JSON.stringify(hello), token)).status).toBe(200)
    const refused = await raw('/v1/chat/completions', JSON.stringify(hello), token)
    expect(refused.status).toBe(429)
  })
})

describe('validation errors name the field and never echo the value', () => {
  test('a wide body nested just within the limit fails on its field, not by printing the whole value', async () => {
    // 99 levels and 200,000 numbers: Elysia's own report of it would be hundreds of MB of JSON.
    const wide = `{"model":"m","messages":[{"role":"user","content":"hi"}],"user":${'['.repeat(98)}${Array(200_000).fill(0).join(',')}${']'.repeat(98)}}`
    const res = await raw('/v1/chat/completions', wide, { authorization: `Bearer ${user.apiKey}` })
    expect(res.status).toBe(400)
    expect((await res.json()).error.message).toBe("Invalid body field 'user': must be a string or null")
  })

  test('sign-in routes, open to anyone, take bodies of at most 16 KB (413 before reading)', async () => {
    const big = JSON.stringify({ email: 'a@x.test', password: 'x'.repeat(20_000) })
    const res = await raw('/api/auth/login/', big)
    expect(res.status).toBe(413)
    expect((await res.json()).message).toContain('16384 bytes')
  })

  test('a field without a message of its own gets one from its schema', async () => {
    const res = await call('/v1/chat/completions', { method: 'POST', token: user.apiKey, json: { ...hello, user: { id: 7 } } })
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatchObject({ param: 'user', message: "Invalid body field 'user': must be a string or null" })
  })

  const secret = 'Secret-Value-7f3a'
  const cases: [string, string, unknown, string][] = [
    ['a password sent as an array', '/api/auth/login/', { email: 'a@x.test', password: [secret] }, 'password'],
    ['a password sent as an object', '/api/auth/register/', { email: 'a@x.test', password: { value: secret } }, 'password'],
    ['a refresh token sent as an array', '/api/auth/refresh/', { refreshToken: [secret] }, 'refreshToken'],
    ['a refresh token sent as a number-like object', '/api/auth/logout/', { refreshToken: { [secret]: 1 } }, 'refreshToken'],
    ['an email sent as an array', '/api/auth/login/', { email: [secret], password: 'x' }, 'email'],
  ]
  test.each(cases)('%s', async (_name, path, json, field) => {
    const res = await call(path, { method: 'POST', json })
    expect(res.status).toBe(400)
    const text = await res.text()
    expect(text).not.toContain(secret)
    expect(JSON.parse(text).message).toContain(field)
  })

  test('a chat field of the wrong type, under /v1', async () => {
    const user = await seedUser(rt)
    const res = await call('/v1/chat/completions', { method: 'POST', token: user.apiKey, json: { ...hello, user: [secret] } })
    expect(res.status).toBe(400)
    const text = await res.text()
    expect(text).not.toContain(secret)
    expect(JSON.parse(text).error.param).toBe('user')
  })
})

describe('JSON routes refuse other content types → 415', () => {
  const forms: [string, string, string][] = [
    ['a urlencoded form', 'application/x-www-form-urlencoded', 'email=victim%40x.test&password=wrong-guess'],
    ['a multipart form', 'multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nvictim@x.test\r\n--b--\r\n'],
    ['plain text (what a form with enctype=text/plain sends)', 'text/plain', '{"email":"victim@x.test","password":"wrong-guess"}'],
  ]
  test.each(forms)('login with %s → 415, and no failed sign-in is counted', async (_name, type, body) => {
    for (let i = 0; i < 6; i++) {
      const res = await call('/api/auth/login/', { method: 'POST', body, headers: { 'content-type': type } })
      expect(res.status).toBe(415)
      expect(await res.json()).toMatchObject({ error: 'Unsupported media type', message: expect.stringContaining('application/json') })
    }
    expect(threatMonitorOf(rt).count('brute_force', 'account:victim@x.test')).toBe(0)
  })

  test('register with a form creates no account', async () => {
    const res = await call('/api/auth/register/', {
      method: 'POST',
      body: 'email=formed%40x.test&password=long+enough+password',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(415)
    const login = await call('/api/auth/login/', { method: 'POST', json: { email: 'formed@x.test', password: 'long enough password' } })
    expect(login.status).toBe(401)
  })

  test('under /v1 the 415 is in the OpenAI envelope', async () => {
    const user = await seedUser(rt)
    const res = await call('/v1/chat/completions', { method: 'POST', token: user.apiKey, body: 'x', headers: { 'content-type': 'text/plain' } })
    expect(res.status).toBe(415)
    expect((await res.json()).error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_media_type' })
  })

  test('application/json with a charset, and +json types, are JSON', async () => {
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json']) {
      const res = await call('/api/auth/login/', { method: 'POST', body: '{"email":"nobody@x.test","password":"whatever"}', headers: { 'content-type': type } })
      expect(res.status).toBe(401)
    }
  })
})

describe('lookalike accounts', () => {
  const invisible: [string, string][] = [
    ['a zero-width space', 'look@x.test\u200b'],
    ['a NUL', 'lo\u0000ok@x.test'],
    ['a right-to-left override', 'look\u202e@x.test'],
    ['a zero-width joiner', 'lo\u200dok@x.test'],
    ['a Hangul filler', 'look\u3164@x.test'],
    ['a blank Braille pattern', 'look\u2800@x.test'],
    ['a combining grapheme joiner', 'lo\u034fok@x.test'],
    ['a variation selector', 'look\ufe0f@x.test'],
    ['a private-use character', 'look\ue000@x.test'],
    ['a noncharacter', 'look\uffff@x.test'],
    ['a lone surrogate', 'look\ud800@x.test'],
  ]
  test.each(invisible)('an email with %s → 400 naming the field', async (_name, email) => {
    const res = await call('/api/auth/register/', { method: 'POST', json: { email, password: 'long enough password' } })
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.message).toContain("'email'")
    expect(body.message).toContain('invisible')
  })

  test.each([
    ['a bidi override', 'Eve\u202egnalla'],
    ['a zero-width space', 'Ad\u200bmin'],
    ['a control character', 'Bob\u0007'],
    ['a Hangul filler', 'Admin\u3164'],
    ['a blank Braille pattern', '\u2800'],
  ])(
    'a name with %s → 400 naming the field',
    async (_name, name) => {
      const res = await call('/api/auth/register/', { method: 'POST', json: { email: 'named@x.test', password: 'long enough password', name } })
      expect(res.status).toBe(400)
      expect((await res.json()).message).toContain("'name'")
    },
  )

  test('an email with a ligature or full-width letters → 400 (they look like plain letters)', async () => {
    for (const email of ['\ufb01le@x.test', '\uff41dmin@x.test']) {
      const res = await call('/api/auth/register/', { method: 'POST', json: { email, password: 'long enough password' } })
      expect(res.status).toBe(400)
      expect((await res.json()).message).toContain("'email'")
    }
  })

  test.each([
    ['Cyrillic letters among Latin ones', '\u0430dmin@x.test'],
    ['a Greek letter among Latin ones', 'r\u03bfot@x.test'],
    ['a dotted capital I (a combining dot once lower-cased)', 'adm\u0130n@x.test'],
    ['a combining mark', 'admin\u0332@x.test'],
    ['an ideographic full stop', 'admin@x\u3002test.com'],
    ['an object replacement character', 'admin\ufffc@x.test'],
  ])('an email with %s → 400 (it passes for another)', async (_name, email) => {
    const res = await call('/api/auth/register/', { method: 'POST', json: { email, password: 'long enough password' } })
    expect(res.status).toBe(400)
    expect((await res.json()).message).toContain("'email'")
  })

  test('a name with other spaces is stored with plain ones', async () => {
    const res = await call('/api/auth/register/', { method: 'POST', json: { email: 'ada@x.test', password: 'long enough password', name: 'Ada\u00a0\u3000Lovelace' } })
    expect(res.status).toBe(201)
    expect((await res.json()).user.name).toBe('Ada Lovelace')
  })

  test('an API key name with a control character → 400 naming the field', async () => {
    const owner = await seedUser(rt)
    const res = await call('/api/keys/', { method: 'POST', token: owner.accessToken, json: { name: 'ci\u0000' } })
    expect(res.status).toBe(400)
    expect((await res.json()).message).toContain("'name'")
  })

  test('emails are stored in NFC with a lower-case domain; the decomposed spelling signs in to the same account', async () => {
    const composed = 'jos\u00e9@Example.TEST'
    const decomposed = 'jose\u0301@example.test'
    const res = await call('/api/auth/register/', { method: 'POST', json: { email: decomposed, password: 'long enough password' } })
    expect(res.status).toBe(201)
    expect((await res.json()).user.email).toBe('jos\u00e9@example.test')
    expect((await call('/api/auth/register/', { method: 'POST', json: { email: composed, password: 'another password' } })).status).toBe(409)
    expect((await call('/api/auth/login/', { method: 'POST', json: { email: composed, password: 'long enough password' } })).status).toBe(200)
  })
})

describe('token responses are never cached', () => {
  test('register, login, refresh, me, key creation and their errors carry Cache-Control: no-store', async () => {
    const register = await call('/api/auth/register/', { method: 'POST', json: { email: 'cache@x.test', password: 'long enough password' } })
    const { accessToken, refreshToken } = await register.json()
    const login = await call('/api/auth/login/', { method: 'POST', json: { email: 'cache@x.test', password: 'long enough password' } })
    const refresh = await call('/api/auth/refresh/', { method: 'POST', json: { refreshToken } })
    const me = await call('/api/auth/me/', { token: accessToken })
    const key = await call('/api/keys/', { method: 'POST', token: accessToken, json: { name: 'k' } })
    const keys = await call('/api/keys', { token: accessToken })
    const refused = await call('/api/auth/login/', { method: 'POST', json: { email: 'cache@x.test', password: 'wrong password' } })
    for (const res of [register, login, refresh, me, key, keys, refused]) expect(res.headers.get('cache-control')).toBe('no-store')
    expect((await call('/api/dashboard/health/')).headers.get('cache-control')).toBeNull()
  })
})
