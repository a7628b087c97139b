import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import * as usersApi from '@/api/users'
import type { Account } from '@/api/users'
import { useAccountsStore } from '@/stores/accounts'

vi.mock('@/api/users', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/users')>()),
  listUsers: vi.fn(),
  listGroups: vi.fn(),
}))

function account(username: string, changes: Partial<Account> = {}): Account {
  return { username, display_name: '', roles: ['editor'], groups: [], disabled: false, created_at: 1_700_000_000, ...changes }
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.mocked(usersApi.listUsers).mockResolvedValue([
    account('alice', { groups: ['g1'] }),
    account('bob', { roles: ['checker'] }),
    account('carol', { disabled: true }),
  ])
  vi.mocked(usersApi.listGroups).mockResolvedValue({ g2: ['bob'], g1: ['alice'] })
})

describe('useAccountsStore', () => {
  it('loads users and groups once within the cache time', async () => {
    const accounts = useAccountsStore()

    await accounts.load()
    await accounts.load()

    expect(usersApi.listUsers).toHaveBeenCalledTimes(1)
    expect(accounts.groupNames).toEqual(['g1', 'g2'])
  })

  it('reloads when forced', async () => {
    const accounts = useAccountsStore()
    await accounts.load()

    await accounts.load(true)

    expect(usersApi.listUsers).toHaveBeenCalledTimes(2)
  })

  it('shares one request between concurrent loads', async () => {
    const accounts = useAccountsStore()

    await Promise.all([accounts.load(), accounts.load(true)])

    expect(usersApi.listUsers).toHaveBeenCalledTimes(1)
  })

  it('offers enabled editors and checkers', async () => {
    const accounts = useAccountsStore()
    await accounts.load()

    expect(accounts.editors.map((user) => user.username)).toEqual(['alice'])
    expect(accounts.checkers.map((user) => user.username)).toEqual(['bob'])
  })

  it('puts a saved user in username order and reloads the groups', async () => {
    const accounts = useAccountsStore()
    await accounts.load()
    vi.mocked(usersApi.listGroups).mockResolvedValue({ g1: ['alice', 'abe'] })

    await accounts.saved(account('abe', { groups: ['g1'] }))

    expect(accounts.users.map((user) => user.username)).toEqual(['abe', 'alice', 'bob', 'carol'])
    expect(accounts.groups.g1).toEqual(['alice', 'abe'])
  })

  it('replaces a changed user', async () => {
    const accounts = useAccountsStore()
    await accounts.load()

    await accounts.saved(account('bob', { disabled: true }))

    expect(accounts.users.filter((user) => user.username === 'bob')).toEqual([account('bob', { disabled: true })])
  })
})
