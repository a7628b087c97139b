import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as servicesApi from '@/api/services'
import * as tasksApi from '@/api/tasks'
import * as notify from '@/utils/notify'
import ReviewPage from '@/views/tasks/review/index.vue'
import { createTestApp, makeSession, mountWithApp, rowButton } from '../../support/app'
import { FakeEventSource } from '../../support/fakeEventSource'
import { makeServiceList } from '../../support/services'
import { makePage, makeTask } from '../../support/tasks'

vi.mock('@/api/tasks', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/tasks')>()),
  listTasks: vi.fn(),
  listDataTypes: vi.fn(),
  approveTask: vi.fn(),
  rejectTask: vi.fn(),
}))
vi.mock('@/api/services')
vi.mock('@/utils/notify', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/utils/notify')>()),
  showError: vi.fn(),
  showSuccess: vi.fn(),
}))

const listTasks = vi.mocked(tasksApi.listTasks)
const CHECKING = makeTask({ task_id: 'T-5', status: 'checking', user: 'alice', checker: 'carol', version: 4 })

async function mountReview() {
  const wrapper = mountWithApp(ReviewPage, createTestApp(makeSession({ username: 'carol', roles: ['checker'] })))
  await flushPromises()
  return wrapper
}

function dialogButton(name: string): HTMLElement {
  const button = document.body.querySelector<HTMLElement>(`.el-dialog [data-test="${name}"]`)
  if (!button) throw new Error(`no dialog button ${name}`)
  return button
}

async function typeReason(text: string): Promise<void> {
  const textarea = document.body.querySelector<HTMLTextAreaElement>('.el-dialog textarea')
  if (!textarea) throw new Error('no reason field')
  textarea.value = text
  textarea.dispatchEvent(new Event('input'))
  await flushPromises()
}

beforeEach(() => {
  vi.stubGlobal('EventSource', FakeEventSource)
  vi.mocked(servicesApi.listServices).mockResolvedValue(makeServiceList())
  vi.mocked(tasksApi.listDataTypes).mockResolvedValue([])
})

afterEach(() => {
  document.body.innerHTML = ''
})

describe('review page', () => {
  it('lists the tasks I check that wait for review', async () => {
    listTasks.mockResolvedValue(makePage([CHECKING]))

    const wrapper = await mountReview()

    expect(listTasks).toHaveBeenCalledWith(expect.objectContaining({ checker: 'carol', status: 'checking' }))
    expect(wrapper.text()).toContain('T-5')
    expect(wrapper.text()).toContain('alice')
  })

  it('approves a task', async () => {
    listTasks.mockResolvedValue(makePage([CHECKING]))
    vi.mocked(tasksApi.approveTask).mockResolvedValue({ ...CHECKING, status: 'finish' })
    const wrapper = await mountReview()

    await wrapper.find(rowButton('approve')).trigger('click')
    await flushPromises()

    expect(tasksApi.approveTask).toHaveBeenCalledWith('T-5')
    expect(notify.showSuccess).toHaveBeenCalledWith('任务 T-5 已通过')
  })

  it('rejects a task with the trimmed reason', async () => {
    listTasks.mockResolvedValue(makePage([CHECKING]))
    vi.mocked(tasksApi.rejectTask).mockResolvedValue({ ...CHECKING, status: 'running' })
    const wrapper = await mountReview()

    await wrapper.find(rowButton('reject')).trigger('click')
    await flushPromises()
    await typeReason('  edges are blurry  ')
    dialogButton('reject-confirm').click()
    await flushPromises()

    expect(tasksApi.rejectTask).toHaveBeenCalledWith('T-5', 'edges are blurry')
    expect(notify.showSuccess).toHaveBeenCalledWith('任务 T-5 已驳回给 alice')
  })

  it('requires a reason before rejecting', async () => {
    listTasks.mockResolvedValue(makePage([CHECKING]))
    const wrapper = await mountReview()

    await wrapper.find(rowButton('reject')).trigger('click')
    await flushPromises()
    await typeReason('   ')
    dialogButton('reject-confirm').click()
    await flushPromises()

    // Element Plus shows a validation message 100 ms after the validation.
    await vi.waitFor(() => expect(document.body.querySelector('.el-dialog')?.textContent).toContain('请填写驳回原因'))
    expect(tasksApi.rejectTask).not.toHaveBeenCalled()
  })

  it('keeps the dialog open when the rejection fails', async () => {
    listTasks.mockResolvedValue(makePage([CHECKING]))
    const failure = new Error('conflict')
    vi.mocked(tasksApi.rejectTask).mockRejectedValue(failure)
    const wrapper = await mountReview()

    await wrapper.find(rowButton('reject')).trigger('click')
    await flushPromises()
    await typeReason('wrong labels')
    dialogButton('reject-confirm').click()
    await flushPromises()

    expect(notify.showError).toHaveBeenCalledWith(failure)
    const overlay = document.body.querySelector('.el-dialog')?.closest<HTMLElement>('.el-overlay')
    expect(overlay?.style.display).not.toBe('none')
  })
})
