import { flushPromises } from '@vue/test-utils'
import { ElMessageBox, type MessageBoxData } from 'element-plus'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as servicesApi from '@/api/services'
import * as tasksApi from '@/api/tasks'
import { useEvents } from '@/stores/events'
import * as notify from '@/utils/notify'
import MinePage from '@/views/tasks/mine/index.vue'
import { buttonByText, createTestApp, makeSession, mountWithApp, rowButton } from '../../support/app'
import { FakeEventSource } from '../../support/fakeEventSource'
import { makeServiceList } from '../../support/services'
import { makePage, makeTask } from '../../support/tasks'

vi.mock('@/api/tasks', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/tasks')>()),
  listTasks: vi.fn(),
  listDataTypes: vi.fn(),
  getTask: vi.fn(),
  submitTask: vi.fn(),
  releaseTask: vi.fn(),
}))
vi.mock('@/api/services')
vi.mock('@/utils/notify', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/utils/notify')>()),
  showError: vi.fn(),
  showSuccess: vi.fn(),
}))

const listTasks = vi.mocked(tasksApi.listTasks)
const RUNNING = makeTask({ task_id: 'T-1', status: 'running', user: 'alice', version: 2 })

async function mountMine() {
  const wrapper = mountWithApp(MinePage, createTestApp(makeSession({ username: 'alice' })))
  await flushPromises()
  return wrapper
}

beforeEach(() => {
  vi.stubGlobal('EventSource', FakeEventSource)
  vi.mocked(servicesApi.listServices).mockResolvedValue(makeServiceList())
  vi.mocked(tasksApi.listDataTypes).mockResolvedValue([])
})

afterEach(() => {
  document.body.innerHTML = ''
})

describe('my tasks page', () => {
  it('lists my running tasks first', async () => {
    listTasks.mockResolvedValue(makePage([RUNNING]))

    const wrapper = await mountMine()

    expect(listTasks).toHaveBeenCalledWith(expect.objectContaining({ user: 'alice', status: 'running' }))
    expect(wrapper.text()).toContain('T-1')
    expect(wrapper.find('[data-test="export"]').attributes('href')).toContain('user=alice&status=running')
  })

  it('switches the status filter, and "all" drops it', async () => {
    listTasks.mockResolvedValue(makePage([]))
    const wrapper = await mountMine()

    await wrapper.find('[data-test="status-checking"] input').setValue(true)
    await flushPromises()
    expect(listTasks).toHaveBeenLastCalledWith(expect.objectContaining({ user: 'alice', status: 'checking' }))

    await wrapper.find('[data-test="status-all"] input').setValue(true)
    await flushPromises()
    expect(listTasks.mock.lastCall?.[0]).not.toHaveProperty('status')
  })

  it('submits a running task', async () => {
    listTasks.mockResolvedValue(makePage([RUNNING]))
    vi.mocked(tasksApi.submitTask).mockResolvedValue({ ...RUNNING, status: 'checking' })
    const wrapper = await mountMine()

    await wrapper.find(rowButton('submit')).trigger('click')
    await flushPromises()

    expect(tasksApi.submitTask).toHaveBeenCalledWith('T-1')
    expect(notify.showSuccess).toHaveBeenCalledWith('任务 T-1 已提交校验')
  })

  it('releases a task after confirmation', async () => {
    listTasks.mockResolvedValue(makePage([RUNNING]))
    const confirm = vi
      .spyOn(ElMessageBox, 'confirm')
      // Element Plus types the result as an object and a string at once; confirm() resolves with 'confirm'.
      .mockResolvedValue('confirm' as MessageBoxData)
    vi.mocked(tasksApi.releaseTask).mockResolvedValue({ ...RUNNING, status: 'notget', user: '' })
    const wrapper = await mountMine()

    await wrapper.find(rowButton('release')).trigger('click')
    await flushPromises()

    expect(confirm).toHaveBeenCalledTimes(1)
    expect(tasksApi.releaseTask).toHaveBeenCalledWith('T-1')
  })

  it('keeps the task when the release is cancelled', async () => {
    listTasks.mockResolvedValue(makePage([RUNNING]))
    vi.spyOn(ElMessageBox, 'confirm').mockRejectedValue('cancel')
    const wrapper = await mountMine()

    await wrapper.find(rowButton('release')).trigger('click')
    await flushPromises()

    expect(tasksApi.releaseTask).not.toHaveBeenCalled()
  })

  it('offers no submit or release for tasks under review', async () => {
    listTasks.mockResolvedValue(makePage([{ ...RUNNING, status: 'checking' }]))

    const wrapper = await mountMine()

    expect(wrapper.find(rowButton('submit')).exists()).toBe(false)
    expect(wrapper.find(rowButton('release')).exists()).toBe(false)
    expect(wrapper.find(rowButton('history')).exists()).toBe(true)
  })

  it('reloads when another user takes one of my tasks', async () => {
    listTasks.mockResolvedValue(makePage([RUNNING]))
    await mountMine()
    useEvents().start()
    listTasks.mockClear()

    FakeEventSource.latest().emit('task', {
      task_id: 'T-77',
      status: 'running',
      user: 'bob',
      checker: '',
      group_id: 'g1',
      service_url: RUNNING.service_url,
      version: 5,
      action: 'assign',
      actor: 'manager',
      at: 1_700_000_500,
      previous_status: 'running',
      previous_user: 'alice',
      previous_checker: '',
      previous_group_id: 'g1',
    })

    await vi.waitFor(() => expect(listTasks).toHaveBeenCalledTimes(1), { timeout: 2000 })
    useEvents().stop()
  })

  it('opens the history drawer with the task and its changes', async () => {
    listTasks.mockResolvedValue(makePage([RUNNING]))
    vi.mocked(tasksApi.getTask).mockResolvedValue({
      task: { ...RUNNING, description: 'line one\nline <two>' },
      history: [
        { at: 1_700_000_000, actor: 'alice', actor_kind: 'user', from_status: 'notget', to_status: 'running', reason: '' },
        {
          at: 1_700_000_100,
          actor: 'carol',
          actor_kind: 'user',
          from_status: 'checking',
          to_status: 'running',
          reason: 'redo <the> edges',
        },
      ],
    })
    const wrapper = await mountMine()

    await wrapper.find(rowButton('history')).trigger('click')
    await flushPromises()

    expect(tasksApi.getTask).toHaveBeenCalledWith('T-1')
    const drawer = document.body.querySelector('.el-drawer')
    expect(drawer?.textContent).toContain('任务 T-1')
    expect(drawer?.textContent).toContain('未领取 → 进行中')
    expect(drawer?.textContent).toContain('原因：redo <the> edges')
    expect(drawer?.querySelector('the')).toBeNull()
    // Newest first.
    const changes = [...(drawer?.querySelectorAll('.change') ?? [])].map((node) => node.textContent?.trim())
    expect(changes).toEqual(['待校验 → 进行中', '未领取 → 进行中'])
  })

  it('shows a failed history load with a retry button', async () => {
    listTasks.mockResolvedValue(makePage([RUNNING]))
    vi.mocked(tasksApi.getTask).mockRejectedValue(new Error('boom'))
    const wrapper = await mountMine()

    await wrapper.find(rowButton('history')).trigger('click')
    await flushPromises()

    expect(document.body.querySelector('.el-drawer')?.textContent).toContain('任务详情加载失败')
    expect(buttonByText(wrapper, '重试')).toBeDefined()
  })
})
