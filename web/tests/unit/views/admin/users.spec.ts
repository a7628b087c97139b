import { flushPromises } from '@vue/test-utils'
import { ElMessageBox, type MessageBoxData } from 'element-plus'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as usersApi from '@/api/users'
import type { Account } from '@/api/users'
import * as notify from '@/utils/notify'
import UsersPage from '@/views/admin/users/index.vue'
import { changedFields } from '@/views/admin/users/useUserForm'
import { chooseOption, createTestApp, makeSession, mountWithApp, rowButton } from '../../../support/app'

vi.mock('@/api/users', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/users')>()),
  listUsers: vi.fn(),
  listGroups: vi.fn(),
  createUser: vi.fn(),
  updateUser: vi.fn(),
  resetPassword: vi.fn(),
}))
vi.mock('@/utils/notify', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/utils/notify')>()),
  showError: vi.fn(),
  showSuccess: vi.fn(),
}))

function account(username: string, changes: Partial<Account> = {}): Account {
  return { username, display_name: '', roles: ['editor'], groups: [], disabled: false, created_at: 1_700_000_000, ...changes }
}

async function mountUsers() {
  const app = createTestApp(makeSession({ username: 'root', roles: ['admin'] }))
  const wrapper = mountWithApp(UsersPage, app)
  await flushPromises()
  return wrapper
}

function dialogButton(name: string): HTMLElement {
  const button = document.body.querySelector<HTMLElement>(`.el-dialog [data-test="${name}"]`)
  if (!button) throw new Error(`no dialog button ${name}`)
  return button
}

function typeInDialog(name: string, text: string): void {
  const input = document.body.querySelector<HTMLInputElement>(`.el-dialog input[data-test="${name}"]`)
  if (!input) throw new Error(`no dialog input ${name}`)
  input.value = text
  input.dispatchEvent(new Event('input'))
}

beforeEach(() => {
  vi.mocked(usersApi.listUsers).mockResolvedValue([
    account('alice', { display_name: '<i>Alice</i>', groups: ['g1'] }),
    account('root', { roles: ['admin'] }),
  ])
  vi.mocked(usersApi.listGroups).mockResolvedValue({ g1: ['alice'] })
})

afterEach(() => {
  document.body.innerHTML = ''
})

describe('changedFields', () => {
  it('sends only what changed, ignoring order', () => {
    const user = account('alice', { roles: ['editor', 'checker'], groups: ['g1'] })

    expect(
      changedFields(user, { username: 'alice', display_name: ' Al ', password: '', confirm: '', roles: ['checker', 'editor'], groups: ['g1', 'g2'] }),
    ).toEqual({ display_name: 'Al', groups: ['g1', 'g2'] })
  })
})

describe('users page', () => {
  it('lists users with roles and groups, names as plain text', async () => {
    const wrapper = await mountUsers()

    expect(wrapper.text()).toContain('用户（2）')
    expect(wrapper.text()).toContain('<i>Alice</i>')
    expect(wrapper.find('.el-table__body i').exists()).toBe(false)
    expect(wrapper.text()).toContain('超级管理员')
  })

  it('filters by text in the browser', async () => {
    const wrapper = await mountUsers()

    await wrapper.find('input[placeholder="用户名、显示名或组"]').setValue('g1')

    expect(wrapper.findAll('.el-table__body tr.el-table__row')).toHaveLength(1)
  })

  it('links the CSV export with the filters on screen', async () => {
    const wrapper = await mountUsers()
    const link = () => wrapper.find('[data-test="export"]')
    expect(link().element.tagName).toBe('A')
    expect(link().attributes('href')).toBe('/api/v1/users/export.csv')

    await wrapper.find('input[placeholder="用户名、显示名或组"]').setValue(' g1 ')

    expect(link().attributes('href')).toBe('/api/v1/users/export.csv?text=g1')
  })

  it('adds the role filter to the CSV export', async () => {
    const wrapper = await mountUsers()

    await chooseOption(wrapper, 'role-filter', 'checker')

    expect(wrapper.find('[data-test="export"]').attributes('href')).toBe('/api/v1/users/export.csv?role=checker')
  })

  it('creates a user', async () => {
    vi.mocked(usersApi.createUser).mockResolvedValue(account('dave'))
    const wrapper = await mountUsers()

    await wrapper.find('[data-test="create-user"]').trigger('click')
    await flushPromises()
    typeInDialog('user-username', 'dave')
    typeInDialog('user-password', 'a long password')
    typeInDialog('user-confirm', 'a long password')
    await flushPromises()
    dialogButton('user-save').click()
    await vi.waitFor(() => expect(usersApi.createUser).toHaveBeenCalled())

    expect(usersApi.createUser).toHaveBeenCalledWith({
      username: 'dave',
      password: 'a long password',
      roles: ['editor'],
      groups: [],
      display_name: '',
    })
    await vi.waitFor(() => expect(notify.showSuccess).toHaveBeenCalledWith('已创建用户 dave'))
  })

  it('rejects a new user whose passwords differ', async () => {
    const wrapper = await mountUsers()

    await wrapper.find('[data-test="create-user"]').trigger('click')
    await flushPromises()
    typeInDialog('user-username', 'dave')
    typeInDialog('user-password', 'a long password')
    typeInDialog('user-confirm', 'another password')
    await flushPromises()
    dialogButton('user-save').click()

    await vi.waitFor(() => expect(document.body.querySelector('.el-dialog')?.textContent).toContain('两次输入的密码不一致'))
    expect(usersApi.createUser).not.toHaveBeenCalled()
  })

  it('disables a user after confirmation', async () => {
    vi.spyOn(ElMessageBox, 'confirm').mockResolvedValue('confirm' as MessageBoxData)
    vi.mocked(usersApi.updateUser).mockResolvedValue(account('alice', { disabled: true }))
    const wrapper = await mountUsers()

    await wrapper.find(rowButton('disable-user')).trigger('click')
    await flushPromises()

    expect(usersApi.updateUser).toHaveBeenCalledWith('alice', { disabled: true })
    expect(wrapper.text()).toContain('已禁用')
  })

  it('keeps admins from disabling themselves', async () => {
    const wrapper = await mountUsers()

    const buttons = wrapper.findAll(rowButton('disable-user'))
    expect(buttons[1]?.attributes('disabled')).toBeDefined()
  })

  it('resets a password', async () => {
    vi.mocked(usersApi.resetPassword).mockResolvedValue(undefined)
    const wrapper = await mountUsers()

    await wrapper.find(rowButton('reset-password')).trigger('click')
    await flushPromises()
    typeInDialog('new-password', 'new long password')
    typeInDialog('confirm-password', 'new long password')
    await flushPromises()
    dialogButton('password-save').click()

    await vi.waitFor(() => expect(usersApi.resetPassword).toHaveBeenCalledWith('alice', 'new long password'))
  })
})
