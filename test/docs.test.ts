// The API docs: the OpenAPI document at /swagger/json, the offline Swagger UI at /swagger, and
// its "Try it out" request bodies, which must work as shown (not `"model": "string"`).
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testApp } from './support/app'
import { CHROMIUM, hasChromium, offlineBrowser } from './support/browser'
import { startFakeOllama } from './support/fake-ollama'
import { listen } from './support/listen'
import { settle } from './support/log'

const ollama = await startFakeOllama()
const { rt, app, call, close } = await testApp({ OLLAMA_BASE_URL: ollama.url })
afterAll(async () => {
  await close()
  ollama.down()
})

if (!hasChromium) console.warn(`Swagger UI browser test skipped: ${CHROMIUM} is missing (CI installs Debian's chromium package)`)

describe('API docs', () => {
  test('/swagger/json is an OpenAPI 3 document describing the routes', async () => {
    const res = await call('/swagger/json')
    expect(res.status).toBe(200)
    const doc = await res.json()
    expect(doc.openapi).toMatch(/^3\./)
    expect(doc.info.title).toBe('AI Studio backend')
    expect(doc.paths['/api/auth/health']?.get).toBeDefined()
    expect(Object.keys(doc.paths).some((path) => path.startsWith('/swagger'))).toBe(false)
    // One spelling for every path (each also answers with a trailing slash), with named parameters.
    for (const path of Object.keys(doc.paths)) expect(path).toMatch(/^\/(api|v1)(\/[\w.-]+|\/\{\w+\})+$/)
    expect(doc.paths['/v1/models/{id}']?.get).toBeDefined()
  })

  test.each(['/swagger', '/swagger/'])('%s references only local assets, each served with its type', async (path) => {
    const res = await call(path)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/html')
    const html = await res.text()
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
    expect(refs.length).toBeGreaterThanOrEqual(2)
    for (const ref of refs) expect(ref.startsWith('/')).toBe(true)
    expect(html).not.toMatch(/https?:\/\/(unpkg|cdn|jsdelivr)/)
    expect(html).not.toMatch(/<script>[^<]/)
    const expected: Record<string, string> = { js: 'text/javascript', css: 'text/css' }
    for (const ref of refs) {
      const asset = await call(ref)
      expect(asset.status).toBe(200)
      expect(asset.headers.get('content-type')).toContain(expected[ref.split('.').pop()!]!)
      const body = await asset.text()
      if (ref.endsWith('init.js')) expect(body).toContain("url: '/swagger/json'")
      else expect(body.length).toBeGreaterThan(10_000)
    }
  })

  test('an unknown asset is 404', async () => {
    expect((await call('/swagger/assets/../../etc/passwd')).status).toBe(404)
    expect((await call('/swagger/assets/nope.js')).status).toBe(404)
  })
})

type Operation = { requestBody?: { content: Record<string, { schema: { examples?: unknown[] } }> } }
const openApi = (await (await call('/swagger/json')).json()) as { paths: Record<string, Record<string, Operation>> }

/** The body Swagger UI puts in "Try it out": the JSON schema's first example (checked in a browser below). */
const exampleOf = (method: string, path: string) => {
  const example = openApi.paths[path]?.[method]?.requestBody?.content['application/json']?.schema.examples?.[0]
  if (example === undefined) throw new Error(`${method.toUpperCase()} ${path} has no example request body`)
  return structuredClone(example) as Record<string, unknown>
}

const EXAMPLE_BODIES = [
  ['post', '/api/auth/register'],
  ['post', '/api/auth/login'],
  ['post', '/api/auth/refresh'],
  ['post', '/api/auth/logout'],
  ['post', '/api/keys'],
  ['post', '/v1/chat/completions'],
  ['post', '/v1/completions'],
  ['post', '/v1/images/generations'],
  ['post', '/v1/embeddings'],
  ['post', '/api/feedback'],
] as const

const post = (path: string, json: unknown, token?: string) => call(`${path}/`, { method: 'POST', json, token })

describe('Swagger "Try it out" example bodies work as shown', () => {
  test('every request body is documented as JSON, the one content type the API takes', () => {
    const bodies = Object.entries(openApi.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, operation]) =>
        operation.requestBody ? [{ route: `${method.toUpperCase()} ${path}`, types: Object.keys(operation.requestBody.content) }] : [],
      ),
    )
    expect(bodies.length).toBeGreaterThanOrEqual(EXAMPLE_BODIES.length)
    for (const body of bodies) expect(body).toEqual({ route: body.route, types: ['application/json'] })
  })

  test.each(EXAMPLE_BODIES)('%s %s has an example body', (method, path) => {
    expect(exampleOf(method, path)).toBeObject()
  })

  test('register, then sign in, with the examples; refresh and logout take the token they returned', async () => {
    const registered = await post('/api/auth/register', exampleOf('post', '/api/auth/register'))
    expect(registered.status).toBe(201)
    const login = await post('/api/auth/login', exampleOf('post', '/api/auth/login'))
    expect(login.status).toBe(200)
    const { refreshToken } = await login.json()

    // The refresh example is a placeholder for a real token: it passes validation and is refused as unknown.
    const placeholder = await post('/api/auth/refresh', exampleOf('post', '/api/auth/refresh'))
    expect(placeholder.status).toBe(401)
    const refreshed = await post('/api/auth/refresh', { ...exampleOf('post', '/api/auth/refresh'), refreshToken })
    expect(refreshed.status).toBe(200)
    const logout = await post('/api/auth/logout', { ...exampleOf('post', '/api/auth/logout'), refreshToken: (await refreshed.json()).refreshToken })
    expect(logout.status).toBe(204)
  })

  test('the chat example gets a completion from Ollama; the feedback example rates it', async () => {
    const { accessToken } = await (await post('/api/auth/login', exampleOf('post', '/api/auth/login'))).json()
    const key = await post('/api/keys', exampleOf('post', '/api/keys'), accessToken)
    expect(key.status).toBe(201)

    const chat = await post('/v1/chat/completions', exampleOf('post', '/v1/chat/completions'), (await key.json()).key)
    expect(chat.status).toBe(200)
    const completion = await chat.json()
    expect(completion.object).toBe('chat.completion')
    expect(completion.choices[0].message.content).toBeString()
    expect(ollama.chats.at(-1)?.body.model).toBe('llama3.2')

    await settle(rt)
    // The example's completionId stands for one of yours: as shown it is valid but unknown (404).
    expect((await post('/api/feedback', exampleOf('post', '/api/feedback'), accessToken)).status).toBe(404)
    const rated = await post('/api/feedback', { ...exampleOf('post', '/api/feedback'), completionId: completion.id }, accessToken)
    expect(rated.status).toBe(201)
  })

  test('the embeddings example gets one vector per input from Ollama', async () => {
    const { accessToken } = await (await post('/api/auth/login', exampleOf('post', '/api/auth/login'))).json()
    const example = exampleOf('post', '/v1/embeddings')
    const res = await post('/v1/embeddings', example, accessToken)
    expect(res.status).toBe(200)
    const list = await res.json()
    expect(list.object).toBe('list')
    expect(list.data).toHaveLength((example.input as string[]).length)
    expect(list.data[0].embedding).toBeArray()
  })
})

describe.skipIf(!hasChromium)('Swagger UI in a headless browser', () => {
  test('"Try it out" fills each body with its example, and "Execute" sends it as shown', async () => {
    // The example account exists (201 now, or 409 when the tests above made it).
    expect([201, 409]).toContain((await post('/api/auth/register', exampleOf('post', '/api/auth/register'))).status)
    const server = listen(app)
    const profile = mkdtempSync(join(tmpdir(), 'studio-swagger-'))
    const { context, page, external, pageErrors } = await offlineBrowser(profile)
    try {
      await page.goto(`${server.url}/swagger`)
      for (const [method, path] of EXAMPLE_BODIES) {
        const operation = page.locator(`.opblock-${method}`).filter({ has: page.locator(`[data-path="${path}"]`) })
        await operation.locator('.opblock-summary').click()
        await operation.getByRole('button', { name: 'Try it out' }).click()
        const shown = JSON.parse(await operation.locator('textarea.body-param__text').inputValue())
        expect({ path, body: shown }).toEqual({ path, body: exampleOf(method, path) })
      }
      // Sent from the page as shown, the sign-in example signs in.
      const login = page.locator('.opblock-post').filter({ has: page.locator('[data-path="/api/auth/login"]') })
      await login.getByRole('button', { name: 'Execute' }).click()
      const status = login.locator('.live-responses-table tr.response .response-col_status').first()
      await status.waitFor()
      expect((await status.textContent())?.trim()).toBe('200')
      expect(external).toEqual([])
      expect(pageErrors).toEqual([])
    } finally {
      await context.close()
      server.stop()
      rmSync(profile, { recursive: true, force: true })
    }
  }, 60_000)
})
