import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as servicesApi from '@/api/services'
import * as tasksApi from '@/api/tasks'
import type { BulkAssignItem, BulkAssignResult } from '@/api/tasks'
import * as usersApi from '@/api/users'
import * as notify from '@/utils/notify'
import AssignPage from '@/views/assign/index.vue'
import { buttonByText, chooseOption, createTestApp, makeSession, mountWithApp, rowButton } from '../../../support/app'
import { FakeEventSource } from '../../../support/fakeEventSource'
import { makeServiceList } from '../../../support/services'
import { makePage, makeTask } from '../../../support/tasks'

vi.mock('@/api/tasks', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/tasks')>()),
  listTasks: vi.fn(),
  listDataTypes: vi.fn(),
  bulkAssign: vi.fn(),
  assignTask: vi.fn(),
  setTaskChecker: vi.fn(),
}))
vi.mock('@/api/services')
vi.mock('@/api/users', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/users')>()),
  listUsers: vi.fn(),
  listGroups: vi.fn(),
}))
vi.mock('@/utils/notify', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/utils/notify')>()),
  showError: vi.fn(),
  showSuccess: vi.fn(),
  showWarning: vi.fn(),
}))

const listTasks = vi.mocked(tasksApi.listTasks)
const bulkAssign = vi.mocked(tasksApi.bulkAssign)

function item(task_id: string, user: string): BulkAssignItem {
  return { task_id, user, ok: true, errid: null, errmsg: null, detail: null }
}

function plan(items: BulkAssignItem[], total_matching = items.length): BulkAssignResult {
  const ok = items.filter((entry) => entry.ok)
  const per_user: Record<string, number> = {}
  for (const entry of ok) per_user[entry.user] = (per_user[entry.user] ?? 0) + 1
  return { dry_run: true, items, ok: ok.length, failed: items.length - ok.length, total_matching, per_user }
}

async function mountAssign(roles = ['admin'], groups = ['g1']) {
  const app = createTestApp(makeSession({ username: 'boss', roles, groups }))
  const wrapper = mountWithApp(AssignPage, app)
  await flushPromises()
  return wrapper
}

// The dialogs are teleported to <body>, outside the mounted wrapper.
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

async function click(wrapper: VueWrapper, selector: string): Promise<void> {
  await wrapper.find(selector).trigger('click')
  await flushPromises()
}

beforeEach(() => {
  vi.stubGlobal('EventSource', FakeEventSource)
  vi.mocked(servicesApi.listServices).mockResolvedValue(makeServiceList())
  vi.mocked(tasksApi.listDataTypes).mockResolvedValue([])
  listTasks.mockResolvedValue(makePage([makeTask({ task_id: 'T-1' }), makeTask({ task_id: 'T-2' })], null, 2))
  vi.mocked(usersApi.listUsers).mockResolvedValue([
    { username: 'alice', display_name: 'Alice', roles: ['editor'], groups: ['g1'], disabled: false, created_at: 0 },
    { username: 'carol', display_name: '', roles: ['checker'], groups: ['g1'], disabled: false, created_at: 0 },
  ])
  vi.mocked(usersApi.listGroups).mockResolvedValue({ g1: ['alice', 'carol'], g2: [] })
})

afterEach(() => {
  document.body.innerHTML = ''
})

describe('assign page', () => {
  it('lists unclaimed tasks first', async () => {
    await mountAssign()

    expect(listTasks).toHaveBeenCalledWith(expect.objectContaining({ status: 'notget', limit: 20 }))
  })

  it('offers admins the users and groups of the server', async () => {
    const wrapper = await mountAssign()

    expect(usersApi.listUsers).toHaveBeenCalled()
    expect(wrapper.find('[data-test="target-user"]').classes()).toContain('el-select')
  })

  it('lets managers type usernames and pick their own groups', async () => {
    const wrapper = await mountAssign(['manager'], ['team-b', 'team-a'])

    expect(usersApi.listUsers).not.toHaveBeenCalled()
    expect(wrapper.find('input[data-test="target-user"]').exists()).toBe(true)

    await wrapper.find('[data-test="mode-round-robin"] input').setValue(true)
    await flushPromises()
    await chooseOption(wrapper, 'target-round-robin-group', 'team-a')
    bulkAssign.mockResolvedValue(plan([item('T-1', 'x')]))
    await click(wrapper, '[data-test="preview"]')

    expect(bulkAssign).toHaveBeenCalledWith(expect.objectContaining({ round_robin_group: 'team-a', user: '' }))
  })

  it('previews the filter for one user and shows who gets what', async () => {
    const wrapper = await mountAssign(['manager'])
    await wrapper.find('input[data-test="target-user"]').setValue('alice')
    bulkAssign.mockResolvedValue(
      plan([item('T-1', 'alice'), { ...item('T-2', ''), ok: false, errid: 1008, errmsg: '任务状态不允许此操作' }], 5),
    )

    await click(wrapper, '[data-test="preview"]')

    expect(bulkAssign).toHaveBeenCalledWith({
      filter: { status: 'notget', data_type: '', service_url: '', text: '', group_id: '', user: '', checker: '' },
      limit: 100,
      user: 'alice',
      round_robin_group: '',
      checker: '',
      group: '',
      dry_run: true,
    })
    expect(wrapper.find('[data-test="per-user"]').text()).toContain('alice')
    expect(wrapper.find('[data-test="preview-failures"]').text()).toContain('T-2：任务状态不允许此操作')
    expect(wrapper.find('[data-test="preview-truncated"]').text()).toContain('共 5 个任务匹配')
  })

  it('warns instead of previewing without an assignee', async () => {
    const wrapper = await mountAssign(['manager'])

    await click(wrapper, '[data-test="preview"]')

    expect(bulkAssign).not.toHaveBeenCalled()
    expect(notify.showWarning).toHaveBeenCalledWith('请选择或填写领取人')
  })

  it('assigns the previewed plan and reloads the list', async () => {
    const wrapper = await mountAssign(['manager'])
    await wrapper.find('input[data-test="target-user"]').setValue('alice')
    bulkAssign.mockResolvedValueOnce(plan([item('T-1', 'alice'), item('T-2', 'alice')]))
    await click(wrapper, '[data-test="preview"]')
    bulkAssign.mockResolvedValueOnce({ ...plan([item('T-1', 'alice'), item('T-2', 'alice')]), dry_run: false })
    listTasks.mockClear()

    await click(wrapper, '[data-test="execute"]')

    expect(bulkAssign).toHaveBeenLastCalledWith(
      expect.objectContaining({ task_ids: ['T-1', 'T-2'], user: 'alice', dry_run: false }),
    )
    expect(wrapper.find('[data-test="outcome"]').text()).toContain('成功 2 个，失败 0 个')
    expect(notify.showSuccess).toHaveBeenCalledWith('已分配 2 个任务')
    expect(listTasks).toHaveBeenCalled()
  })

  it('asks for a new preview after the assignee changes', async () => {
    const wrapper = await mountAssign(['manager'])
    await wrapper.find('input[data-test="target-user"]').setValue('alice')
    bulkAssign.mockResolvedValue(plan([item('T-1', 'alice')]))
    await click(wrapper, '[data-test="preview"]')

    await wrapper.find('input[data-test="target-user"]').setValue('bob')

    expect(wrapper.find('[data-test="preview-stale"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="execute"]').attributes('disabled')).toBeDefined()
  })

  it('previews the tasks ticked in the table', async () => {
    const wrapper = await mountAssign(['manager'])
    await wrapper.find('[data-test="by-selection"] input').setValue(true)
    await flushPromises()
    const boxes = wrapper.findAll('.el-table__body .el-checkbox input')
    await boxes[1]?.setValue(true)
    await flushPromises()
    await wrapper.find('input[data-test="target-user"]').setValue('alice')
    bulkAssign.mockResolvedValue(plan([item('T-2', 'alice')]))

    await click(wrapper, '[data-test="preview"]')

    expect(bulkAssign).toHaveBeenCalledWith(expect.objectContaining({ task_ids: ['T-2'], user: 'alice' }))
  })

  it('assigns one task from the table', async () => {
    vi.mocked(tasksApi.assignTask).mockResolvedValue(makeTask({ task_id: 'T-1', user: 'bob', status: 'running' }))
    const wrapper = await mountAssign(['manager'])

    await click(wrapper, rowButton('assign-one'))
    typeInDialog('single-user', 'bob')
    await flushPromises()
    dialogButton('single-save').click()
    await flushPromises()

    expect(tasksApi.assignTask).toHaveBeenCalledWith('T-1', { user: 'bob', checker: '', group: '' })
    expect(notify.showSuccess).toHaveBeenCalledWith('任务 T-1 已分配给 bob')
  })

  it('sets the checker of a task in progress', async () => {
    listTasks.mockResolvedValue(makePage([makeTask({ task_id: 'T-3', status: 'running', user: 'alice' })]))
    vi.mocked(tasksApi.setTaskChecker).mockResolvedValue(makeTask({ task_id: 'T-3', checker: 'carol' }))
    const wrapper = await mountAssign(['manager'])

    await click(wrapper, rowButton('set-checker'))
    typeInDialog('single-checker', 'carol')
    await flushPromises()
    dialogButton('single-save').click()
    await flushPromises()

    expect(tasksApi.setTaskChecker).toHaveBeenCalledWith('T-3', 'carol')
  })

  it('links the CSV export of the listed tasks', async () => {
    const wrapper = await mountAssign()

    expect(wrapper.find('[data-test="export"]').attributes('href')).toBe(
      '/api/v1/tasks/export.csv?sort=created_at&order=asc&status=notget',
    )
    expect(buttonByText(wrapper, '预览').exists()).toBe(true)
  })
})
