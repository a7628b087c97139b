import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/errors'
import * as servicesApi from '@/api/services'
import * as tasksApi from '@/api/tasks'
import HallPage from '@/views/tasks/hall/index.vue'
import * as notify from '@/utils/notify'
import { buttonByText, chooseOption, createTestApp, makeSession, mountWithApp, rowButton } from '../../support/app'
import { FakeEventSource } from '../../support/fakeEventSource'
import { makeServiceList } from '../../support/services'
import { makePage, makeTask } from '../../support/tasks'

vi.mock('@/api/tasks', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/tasks')>()),
  listTasks: vi.fn(),
  listDataTypes: vi.fn(),
  claimTask: vi.fn(),
  claimNextTask: vi.fn(),
}))
vi.mock('@/api/services')
vi.mock('@/utils/notify', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/utils/notify')>()),
  showError: vi.fn(),
  showSuccess: vi.fn(),
}))

const listTasks = vi.mocked(tasksApi.listTasks)

async function mountHall(roles = ['editor']) {
  const app = createTestApp(makeSession({ roles }))
  const wrapper = mountWithApp(HallPage, app)
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

describe('task hall page', () => {
  it('lists unclaimed tasks with the total', async () => {
    listTasks.mockResolvedValue(makePage([makeTask({ task_id: 'T-1' }), makeTask({ task_id: 'T-2' })], null, 2))

    const wrapper = await mountHall()

    expect(listTasks).toHaveBeenCalledWith(expect.objectContaining({ status: 'notget', limit: 20 }))
    expect(wrapper.text()).toContain('T-1')
    expect(wrapper.text()).toContain('T-2')
    expect(wrapper.text()).toContain('第 1 / 1 页，共 2 条')
  })

  it('shows descriptions as plain text, never as HTML', async () => {
    const description = '<img src=x onerror="alert(1)"><b>bold</b>'
    listTasks.mockResolvedValue(makePage([makeTask({ description })]))

    const wrapper = await mountHall()

    expect(wrapper.find('img[src="x"]').exists()).toBe(false)
    expect(wrapper.find('.description b').exists()).toBe(false)
    expect(wrapper.find('.description').text()).toBe(description)
  })

  it('claims a task and reloads the list', async () => {
    listTasks.mockResolvedValue(makePage([makeTask({ task_id: 'T-1' })]))
    vi.mocked(tasksApi.claimTask).mockResolvedValue(makeTask({ task_id: 'T-1', status: 'running' }))
    const wrapper = await mountHall()
    listTasks.mockClear()

    await wrapper.find(rowButton('claim')).trigger('click')
    await flushPromises()

    expect(tasksApi.claimTask).toHaveBeenCalledWith('T-1')
    expect(notify.showSuccess).toHaveBeenCalledWith('已领取任务 T-1')
    expect(listTasks).toHaveBeenCalledTimes(1)
  })

  it('shows the error and reloads when another user claimed first', async () => {
    listTasks.mockResolvedValue(makePage([makeTask({ task_id: 'T-1' })]))
    const conflict = new ApiError(409, { errid: 1006, errmsg: '任务已被领取' })
    vi.mocked(tasksApi.claimTask).mockRejectedValue(conflict)
    const wrapper = await mountHall()
    listTasks.mockClear()

    await wrapper.find(rowButton('claim')).trigger('click')
    await flushPromises()

    expect(notify.showError).toHaveBeenCalledWith(conflict)
    expect(listTasks).toHaveBeenCalledTimes(1)
  })

  it('claims the next task with the data type and service filters', async () => {
    listTasks.mockResolvedValue(makePage([]))
    vi.mocked(tasksApi.claimNextTask).mockResolvedValue(makeTask({ task_id: 'T-9', status: 'running' }))
    const wrapper = await mountHall()

    await chooseOption(wrapper, 'filter-data-type', 'video')
    await wrapper.find('input[placeholder="任务 ID 或描述"]').setValue(' car ')
    await wrapper.find('[data-test="claim-next"]').trigger('click')
    await flushPromises()

    expect(tasksApi.claimNextTask).toHaveBeenCalledWith({ data_type: 'video', service_url: '', text: 'car' })
    expect(notify.showSuccess).toHaveBeenCalledWith('已领取任务 T-9')
  })

  it('offers the visible data types with their counts', async () => {
    vi.mocked(tasksApi.listDataTypes).mockResolvedValue([{ data_type: 'image', count: 12 }])
    listTasks.mockResolvedValue(makePage([]))

    const wrapper = await mountHall()

    const select = wrapper.findAllComponents({ name: 'ElOption' }).map((option) => option.props('label'))
    expect(select).toContain('image（12）')
  })

  it('hides claim buttons from users who cannot claim', async () => {
    listTasks.mockResolvedValue(makePage([makeTask()]))

    const wrapper = await mountHall(['manager'])

    expect(wrapper.find(rowButton('claim')).exists()).toBe(false)
    expect(wrapper.find('[data-test="claim-next"]').attributes('disabled')).toBeDefined()
  })

  it('shows the empty state', async () => {
    listTasks.mockResolvedValue(makePage([]))

    const wrapper = await mountHall()

    expect(wrapper.text()).toContain('没有符合条件的任务')
  })

  it('shows the error state and retries', async () => {
    listTasks.mockRejectedValueOnce(new ApiError(503, { errid: 1002, errmsg: '数据库查询失败' }))
    const wrapper = await mountHall()

    expect(wrapper.text()).toContain('任务列表加载失败')
    expect(wrapper.text()).toContain('数据库查询失败')

    listTasks.mockResolvedValue(makePage([makeTask({ task_id: 'T-1' })]))
    await buttonByText(wrapper, '重试').trigger('click')
    await flushPromises()

    expect(wrapper.text()).toContain('T-1')
  })

  it('links the CSV export with the list filters', async () => {
    listTasks.mockResolvedValue(makePage([]))

    const wrapper = await mountHall()

    expect(wrapper.find('[data-test="export"]').attributes('href')).toBe(
      '/api/v1/tasks/export.csv?sort=created_at&order=asc&status=notget',
    )
  })

  it('searches with the filters from the first page', async () => {
    listTasks.mockResolvedValue(makePage([makeTask()], 'next', 40))
    const wrapper = await mountHall()

    await wrapper.find('input[placeholder="任务 ID 或描述"]').setValue('car')
    await wrapper.find('form').trigger('submit')
    await flushPromises()

    expect(listTasks).toHaveBeenLastCalledWith(expect.objectContaining({ text: 'car', status: 'notget' }))
  })

  it('pages forward with the cursor', async () => {
    listTasks.mockResolvedValue(makePage([makeTask()], 'cursor-2', 40))
    const wrapper = await mountHall()

    await buttonByText(wrapper, '下一页').trigger('click')
    await flushPromises()

    expect(listTasks).toHaveBeenLastCalledWith(expect.objectContaining({ cursor: 'cursor-2' }))
    expect(wrapper.text()).toContain('第 2 / 2 页')
  })
})
