// Conversations through HTTP (issue 15): a user's own chats, listed newest first in keyset pages,
// filtered and searched, shown with their messages, changed, deleted and exported; bad input is a
// 400 naming the field, and another user's conversation a 404.
import { afterAll, describe, expect, test } from 'bun:test'
import { testApp } from './support/app'
import { raw } from './support/raw'
import { seedUser } from './support/users'

const { rt, call, close } = await testApp()
afterAll(close)

const alice = await seedUser(rt)
const bob = await seedUser(rt)
const json = async (res: Response) => ((await res.json()) as any)
const create = (token: string, body: unknown = {}) => call('/api/conversations/', { method: 'POST', json: body, token })
const made = async (token: string, body: unknown = {}) => json(await create(token, body))
const message = (role: string, content: string) => ({
  role, content, parts: null, toolCalls: null, toolCallId: null, reasoning: null, promptTokens: null,
  completionTokens: null, completionId: null, finishReason: null, state: 'complete' as const,
})

describe('create and get', () => {
  test('201 with the conversation; GET shows it with its messages', async () => {
    const res = await create(alice.accessToken, { title: 'Trip', model: 'llama3' })
    expect(res.status).toBe(201)
    const c = await json(res)
    expect(c).toEqual({
      id: expect.any(String), title: 'Trip', model: 'llama3', createdAt: expect.any(String), updatedAt: expect.any(String),
      pinned: false, archived: false,
    })
    await rt.store.conversations.append(c.id, [message('user', 'hello'), message('assistant', 'hi there')], Date.now())
    const got = await json(await call(`/api/conversations/${c.id}`, { token: alice.accessToken }))
    expect(got.messages.map((m: any) => [m.role, m.content, m.state])).toEqual([['user', 'hello', 'complete'], ['assistant', 'hi there', 'complete']])
    expect(got.nextCursor).toBeNull()
  })

  test('messages are paginated', async () => {
    const c = await made(alice.accessToken)
    await rt.store.conversations.append(c.id, Array.from({ length: 5 }, (_, i) => message('user', `m${i}`)), Date.now())
    const first = await json(await call(`/api/conversations/${c.id}?limit=2`, { token: alice.accessToken }))
    expect(first.messages.map((m: any) => m.content)).toEqual(['m0', 'm1'])
    const second = await json(await call(`/api/conversations/${c.id}?limit=2&cursor=${first.nextCursor}`, { token: alice.accessToken }))
    expect(second.messages.map((m: any) => m.content)).toEqual(['m2', 'm3'])
    const third = await json(await call(`/api/conversations/${c.id}?limit=2&cursor=${second.nextCursor}`, { token: alice.accessToken }))
    expect(third.messages.map((m: any) => m.content)).toEqual(['m4'])
    expect(third.nextCursor).toBeNull()
  })

  test('an API key works as well as a JWT', async () => {
    expect((await create(alice.apiKey)).status).toBe(201)
  })
})

describe('list', () => {
  const user = seedUser(rt)
  test('newest first, in pages, filtered by pinned/archived, searched in titles and messages', async () => {
    const { accessToken: token } = await user
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      ids.push((await made(token, { title: `chat ${i}` })).id)
      await Bun.sleep(2)
    }
    const page = (query: string) => call(`/api/conversations/?${query}`, { token }).then(json)
    const first = await page('limit=2')
    expect(first.items.map((c: any) => c.id)).toEqual([ids[4], ids[3]])
    const second = await page(`limit=2&cursor=${first.nextCursor}`)
    expect(second.items.map((c: any) => c.id)).toEqual([ids[2], ids[1]])
    const third = await page(`limit=2&cursor=${second.nextCursor}`)
    expect(third.items.map((c: any) => c.id)).toEqual([ids[0]])
    expect(third.nextCursor).toBeNull()

    // a new message moves its conversation to the top
    await rt.store.conversations.append(ids[0]!, [message('user', 'Where is the Needle?')], Date.now())
    expect((await page('')).items[0].id).toBe(ids[0])

    await call(`/api/conversations/${ids[1]}`, { method: 'PATCH', json: { pinned: true }, token })
    await call(`/api/conversations/${ids[2]}`, { method: 'PATCH', json: { archived: true }, token })
    expect((await page('pinned=true')).items.map((c: any) => c.id)).toEqual([ids[1]])
    expect((await page('archived=true')).items.map((c: any) => c.id)).toEqual([ids[2]])
    expect((await page('archived=false')).items).toHaveLength(4)

    expect((await page('q=NEEDLE')).items.map((c: any) => c.id)).toEqual([ids[0]])
    expect((await page('q=Chat%203')).items.map((c: any) => c.id)).toEqual([ids[3]])
    expect((await page('q=100%25')).items).toEqual([])
    expect((await page('q=_')).items).toEqual([])
  })

  test('search past the newest hundred conversations: text in their messages (the index), in titles, under three characters; in pages; gone with its conversation', async () => {
    const { userId, accessToken: token } = await seedUser(rt)
    const stranger = await seedUser(rt)
    const at = Date.now() - 1_000_000
    const ids: string[] = []
    for (let i = 0; i < 130; i++) {
      const c = await rt.store.conversations.create({ userId, title: i === 1 ? 'Old zephyr notes' : `talk ${i}`, model: null }, at + i * 10)
      const text = i === 0 ? 'the ZEPHYR wind' : i === 5 ? 'a qz pair' : i === 129 ? 'zephyr again' : `filler ${i}`
      await rt.store.conversations.append(c.id, [message('user', text), message('assistant', 'ok "quoted" reply')], at + i * 10 + 1)
      ids.push(c.id)
    }
    await rt.store.conversations.append(
      (await rt.store.conversations.create({ userId: stranger.userId, title: '', model: null }, at)).id,
      [message('user', 'zephyr of a stranger')], at,
    )
    const page = (query: string) => call(`/api/conversations/?${query}`, { token }).then(json)
    const first = await page('q=Zephyr&limit=2')
    expect(first.items.map((c: any) => c.id)).toEqual([ids[129], ids[1]])
    const second = await page(`q=Zephyr&limit=2&cursor=${first.nextCursor}`)
    expect(second.items.map((c: any) => c.id)).toEqual([ids[0]])
    expect((await page('q=QZ')).items.map((c: any) => c.id)).toEqual([ids[5]])
    expect((await page('q=%22quoted%22&limit=200')).items).toHaveLength(130)
    expect((await page('q=filler%203')).items.map((c: any) => c.id)).toEqual([...ids.slice(30, 40).reverse(), ids[3]])
    expect((await call(`/api/conversations/${ids[0]}`, { method: 'DELETE', token })).status).toBe(204)
    expect((await page('q=zephyr')).items.map((c: any) => c.id)).toEqual([ids[129], ids[1]])
  })

  test('lists only my own', async () => {
    const { accessToken } = await seedUser(rt)
    expect((await call('/api/conversations/', { token: accessToken }).then(json)).items).toEqual([])
  })
})

describe('patch and delete', () => {
  test('rename, pin, archive', async () => {
    const c = await made(alice.accessToken)
    const res = await call(`/api/conversations/${c.id}`, { method: 'PATCH', json: { title: 'Renamed', pinned: true, archived: true }, token: alice.accessToken })
    expect(res.status).toBe(200)
    expect(await json(res)).toMatchObject({ title: 'Renamed', pinned: true, archived: true })
    const back = await json(await call(`/api/conversations/${c.id}`, { method: 'PATCH', json: { pinned: false }, token: alice.accessToken }))
    expect(back).toMatchObject({ title: 'Renamed', pinned: false, archived: true })
  })

  test('delete one takes its messages; delete all takes only mine', async () => {
    const c = await made(alice.accessToken)
    await rt.store.conversations.append(c.id, [message('user', 'x')], Date.now())
    expect((await call(`/api/conversations/${c.id}`, { method: 'DELETE', token: alice.accessToken })).status).toBe(204)
    expect((await call(`/api/conversations/${c.id}`, { token: alice.accessToken })).status).toBe(404)
    expect(await rt.store.conversations.messages(c.id, 10)).toEqual([])

    const carol = await seedUser(rt)
    await made(carol.accessToken)
    await made(carol.accessToken)
    const kept = await made(bob.accessToken)
    const res = await call('/api/conversations/', { method: 'DELETE', token: carol.accessToken })
    expect(await json(res)).toEqual({ deleted: 2 })
    expect((await call('/api/conversations/', { token: carol.accessToken }).then(json)).items).toEqual([])
    expect((await call(`/api/conversations/${kept.id}`, { token: bob.accessToken })).status).toBe(200)
  })

  test("deleting a user deletes their conversations", async () => {
    const dave = await seedUser(rt)
    const c = await made(dave.accessToken)
    expect((await rt.store.conversations.countByUser([dave.userId])).get(dave.userId)).toBe(1)
    await raw(rt, { sqlite: 'DELETE FROM users WHERE id = ?', postgres: 'DELETE FROM users WHERE id = $1' }, dave.userId)
    expect(await rt.store.conversations.get(dave.userId, c.id)).toBeUndefined()
  })
})

describe('export', () => {
  test('one as JSON and as Markdown, all as JSON', async () => {
    const erin = await seedUser(rt)
    const c = await made(erin.accessToken, { title: 'Exported' })
    await rt.store.conversations.append(c.id, [message('user', 'question'), { ...message('assistant', 'answer'), state: 'cancelled' }], Date.now())
    await made(erin.accessToken, { title: 'Other' })

    const one = await call(`/api/conversations/${c.id}/export?format=json`, { token: erin.accessToken })
    expect(one.status).toBe(200)
    expect(one.headers.get('content-disposition')).toBe(`attachment; filename="conversation-${c.id}.json"`)
    const body = await json(one)
    expect(body.conversations).toHaveLength(1)
    expect(body.conversations[0].messages.map((m: any) => m.content)).toEqual(['question', 'answer'])

    const md = await call(`/api/conversations/${c.id}/export?format=markdown`, { token: erin.accessToken })
    expect(md.headers.get('content-type')).toStartWith('text/markdown')
    const text = await md.text()
    expect(text).toContain('# Exported')
    expect(text).toContain('### user\n\nquestion')
    expect(text).toContain('### assistant *(cancelled)*\n\nanswer')

    const all = await call('/api/conversations/export', { token: erin.accessToken })
    expect(all.headers.get('content-disposition')).toBe('attachment; filename="conversations.json"')
    expect((await json(all)).conversations.map((x: any) => x.title).sort()).toEqual(['Exported', 'Other'])
    const allMd = await call('/api/conversations/export?format=markdown', { token: erin.accessToken })
    expect(await allMd.text()).toContain('# Other')
  })
})

describe('bad input and other users', () => {
  test("another user's conversation is a 404 for every route", async () => {
    const c = await made(alice.accessToken)
    for (const [path, method, body] of [
      [`/api/conversations/${c.id}`, 'GET'],
      [`/api/conversations/${c.id}`, 'PATCH', { title: 'mine now' }],
      [`/api/conversations/${c.id}`, 'DELETE'],
      [`/api/conversations/${c.id}/export`, 'GET'],
    ] as const) {
      const res = await call(path, { method, json: body, token: bob.accessToken })
      expect(res.status).toBe(404)
      expect((await json(res)).error).toBeString()
    }
    expect((await call(`/api/conversations/${c.id}`, { token: alice.accessToken })).status).toBe(200)
  })

  test('unknown id 404, malformed id 400', async () => {
    expect((await call(`/api/conversations/${Bun.randomUUIDv7()}`, { token: alice.accessToken })).status).toBe(404)
    const res = await call('/api/conversations/not-an-id', { token: alice.accessToken })
    expect(res.status).toBe(400)
    expect(JSON.stringify(await json(res))).toContain('id')
  })

  test.each([
    ['POST', '/api/conversations/', { title: 5 }, 'title'],
    ['POST', '/api/conversations/', { title: 'x'.repeat(201) }, 'title'],
    ['POST', '/api/conversations/', { model: '' }, 'model'],
    ['PATCH', 'ID', { pinned: 'yes' }, 'pinned'],
    ['PATCH', 'ID', { archived: 1 }, 'archived'],
    ['GET', '/api/conversations/?limit=0', undefined, 'limit'],
    ['GET', '/api/conversations/?limit=abc', undefined, 'limit'],
    ['GET', '/api/conversations/?pinned=maybe', undefined, 'pinned'],
    ['GET', '/api/conversations/?cursor=%%%', undefined, 'cursor'],
    ['GET', '/api/conversations/?cursor=bm9wZQ', undefined, 'cursor'],
    ['GET', 'ID?cursor=-1', undefined, 'cursor'],
    ['GET', '/api/conversations/export?format=pdf', undefined, 'format'],
  ])('%s %s %j → 400 naming %s', async (method, path, body, field) => {
    const c = await made(alice.accessToken)
    const url = path.startsWith('ID') ? `/api/conversations/${c.id}${path.slice(2)}` : path
    const res = await call(url, { method, json: body, token: alice.accessToken })
    expect(res.status).toBe(400)
    const text = await res.text()
    expect(text).toContain(field)
    if (body && typeof (body as any).title === 'string') expect(text).not.toContain('xxxxxxxx')
  })

  test('no token → 401', async () => {
    expect((await call('/api/conversations/')).status).toBe(401)
  })
})

describe('admin', () => {
  test('the admin users list shows how many conversations each user has, nothing more', async () => {
    const root = await seedUser(rt, { role: 'admin' })
    const frank = await seedUser(rt, { email: 'frank-conversations@example.com' })
    await made(frank.accessToken, { title: 'private' })
    await made(frank.accessToken)
    const page = await json(await call('/api/admin/users/?search=frank-conversations', { token: root.accessToken }))
    expect(page.items).toHaveLength(1)
    expect(page.items[0].conversations).toBe(2)
    expect(JSON.stringify(page)).not.toContain('private')
    const none = await json(await call(`/api/admin/users/?search=${encodeURIComponent(root.email)}`, { token: root.accessToken }))
    expect(none.items[0].conversations).toBe(0)
  })
})
