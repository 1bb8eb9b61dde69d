// The accounts rules that are checked and then written, with the writers arriving together (as
// from several replicas): one account per email whoever registers it, and create-superuser
// making an admin of the address however many run at once.
import { afterAll, describe, expect, test } from 'bun:test'
import { createSuperuser, register } from '../src/auth/accounts'
import { HttpError } from '../src/http/errors'
import { testRuntime } from './support/app'

const rt = await testRuntime()
afterAll(() => rt.close())

describe('one account per email', () => {
  test('registrations of one email at once: one account, the others refused as taken', async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => register(rt, { email: 'twin@example.com', password: 'long enough' })))
    const made = results.filter((result) => result.status === 'fulfilled')
    expect(made).toHaveLength(1)
    for (const result of results)
      if (result.status === 'rejected') {
        expect(result.reason).toBeInstanceOf(HttpError)
        expect(result.reason).toMatchObject({ status: 409, options: { code: 'email_taken' } })
      }
    expect((await rt.store.accounts.findUserByEmail('twin@example.com'))!.id).toBe(made[0]!.value.id)
  })
})

describe('create-superuser', () => {
  test('several at once for one new email: one creates it, the others promote it; every one ends with the admin', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => createSuperuser(rt, { email: 'root@example.com', password: `root password ${i}` })),
    )
    expect(results.filter((result) => result.created)).toHaveLength(1)
    const admin = (await rt.store.accounts.findUserByEmail('root@example.com'))!
    expect(admin).toMatchObject({ role: 'admin', isActive: true, emailVerified: true })
    for (const result of results) expect(result.user).toMatchObject({ id: admin.id, role: 'admin' })
  })

  test('racing a self-registration of the same email: the account ends an admin either way', async () => {
    const [registered] = await Promise.allSettled([
      register(rt, { email: 'contested@example.com', password: 'long enough' }),
      createSuperuser(rt, { email: 'contested@example.com', password: 'root password' }),
    ])
    const admin = (await rt.store.accounts.findUserByEmail('contested@example.com'))!
    expect(admin).toMatchObject({ role: 'admin', isActive: true, emailVerified: true })
    // The self-registered account, if it came first, is the one promoted: its sessions are revoked.
    if (registered.status === 'fulfilled') expect(registered.value.id).toBe(admin.id)
  })
})
