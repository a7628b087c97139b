import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as usersApi from '@/api/users'
import GroupsPage from '@/views/admin/groups/index.vue'
import { createTestApp, makeSession, mountWithApp } from '../../../support/app'

vi.mock('@/api/users', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/users')>()),
  listUsers: vi.fn(),
  listGroups: vi.fn(),
}))

beforeEach(() => {
  vi.mocked(usersApi.listUsers).mockResolvedValue([
    { username: 'alice', display_name: '', roles: ['editor'], groups: ['g1'], disabled: false, created_at: 0 },
    { username: 'bob', display_name: '', roles: ['editor'], groups: ['g1'], disabled: true, created_at: 0 },
    { username: 'mia', display_name: '', roles: ['manager'], groups: ['g1', 'g2'], disabled: false, created_at: 0 },
  ])
  vi.mocked(usersApi.listGroups).mockResolvedValue({ g1: ['alice', 'bob', 'mia'], g2: ['mia'] })
})

afterEach(() => {
  document.body.innerHTML = ''
})

describe('groups page', () => {
  it('lists groups with members, enabled editors and managers', async () => {
    const wrapper = mountWithApp(GroupsPage, createTestApp(makeSession({ roles: ['admin'] })))
    await flushPromises()

    const rows = wrapper.findAll('.el-table__body tr.el-table__row').map((row) => row.findAll('td').map((cell) => cell.text()))
    expect(rows[0]?.slice(0, 4)).toEqual(['g1', '3', '1', 'mia'])
    expect(rows[1]?.slice(0, 3)).toEqual(['g2', '1', '0'])
  })

  it('filters by group or member', async () => {
    const wrapper = mountWithApp(GroupsPage, createTestApp(makeSession({ roles: ['admin'] })))
    await flushPromises()

    await wrapper.find('.group-search input').setValue('bob')

    expect(wrapper.findAll('.el-table__body tr.el-table__row')).toHaveLength(1)
  })

  it('links the CSV export with the filter on screen', async () => {
    const wrapper = mountWithApp(GroupsPage, createTestApp(makeSession({ roles: ['admin'] })))
    await flushPromises()
    const link = () => wrapper.find('[data-test="export"]')
    expect(link().element.tagName).toBe('A')
    expect(link().attributes('href')).toBe('/api/v1/groups/export.csv')

    await wrapper.find('.group-search input').setValue('bob')

    expect(link().attributes('href')).toBe('/api/v1/groups/export.csv?text=bob')
  })
})
