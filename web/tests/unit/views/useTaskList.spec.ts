import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, type EffectScope } from 'vue'
import type { TaskEvent } from '@/api/events'
import { ApiError } from '@/api/errors'
import * as tasksApi from '@/api/tasks'
import { useEvents } from '@/stores/events'
import { REFRESH_DEBOUNCE_MS, useTaskList, type TaskListOptions } from '@/views/tasks/useTaskList'
import { FakeEventSource } from '../../support/fakeEventSource'
import { makePage, makeTask } from '../../support/tasks'

vi.mock('@/api/tasks', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/tasks')>()),
  listTasks: vi.fn(),
}))

const listTasks = vi.mocked(tasksApi.listTasks)

function taskEvent(changes: Partial<TaskEvent> = {}): TaskEvent {
  return {
    task_id: 'other',
    status: 'running',
    user: 'bob',
    checker: '',
    group_id: '',
    service_url: 'http://127.0.0.1:8611/rpost/test',
    version: 2,
    action: 'claim',
    actor: 'bob',
    at: 1_700_000_000,
    ...changes,
  }
}

let scope: EffectScope

function createList(options: Partial<TaskListOptions> = {}) {
  scope = effectScope()
  const list = scope.run(() =>
    useTaskList({
      fixedFilter: () => ({ status: 'notget' }),
      isRelevant: (event) => event.status === 'notget',
      ...options,
    }),
  )
  if (!list) throw new Error('useTaskList returned nothing')
  return list
}

function lastQuery() {
  return listTasks.mock.calls.at(-1)?.[0]
}

beforeEach(() => {
  setActivePinia(createPinia())
  FakeEventSource.reset()
  vi.stubGlobal('EventSource', FakeEventSource)
})

afterEach(() => {
  scope?.stop()
  useEvents().stop()
  vi.useRealTimers()
})

describe('useTaskList', () => {
  it('loads the first page with the fixed filter and default sort', async () => {
    listTasks.mockResolvedValue(makePage([makeTask()], null, 1))
    const list = createList()

    await list.load()

    expect(lastQuery()).toEqual({ status: 'notget', sort: 'created_at', order: 'asc', limit: 20 })
    expect(list.rows.value).toHaveLength(1)
    expect(list.total.value).toBe(1)
    expect(list.loading.value).toBe(false)
    expect(list.hasNext.value).toBe(false)
  })

  it('pages forward by cursor and back by the kept cursors', async () => {
    listTasks
      .mockResolvedValueOnce(makePage([makeTask({ task_id: 'a' })], 'cursor-2', 45))
      .mockResolvedValueOnce(makePage([makeTask({ task_id: 'b' })], 'cursor-3', 45))
      .mockResolvedValueOnce(makePage([makeTask({ task_id: 'a' })], 'cursor-2', 45))
    const list = createList()
    await list.load()

    await list.nextPage()
    expect(lastQuery()?.cursor).toBe('cursor-2')
    expect(list.pageIndex.value).toBe(1)
    expect(list.pageCount.value).toBe(3)
    expect(list.hasPrevious.value).toBe(true)

    await list.previousPage()
    expect(lastQuery()).not.toHaveProperty('cursor')
    expect(list.pageIndex.value).toBe(0)
    expect(list.rows.value[0]?.task_id).toBe('a')
  })

  it('applies edited filters only on search, from the first page', async () => {
    listTasks.mockResolvedValue(makePage([makeTask()], 'next', 30))
    const list = createList()
    await list.load()
    await list.nextPage()

    list.filters.data_type = ' image '
    list.filters.text = 'car'
    expect(list.exportUrl.value).not.toContain('image')
    await list.search()

    expect(lastQuery()).toEqual({
      status: 'notget',
      data_type: 'image',
      text: 'car',
      sort: 'created_at',
      order: 'asc',
      limit: 20,
    })
    expect(list.pageIndex.value).toBe(0)
    expect(list.exportUrl.value).toBe(
      '/api/v1/tasks/export.csv?sort=created_at&order=asc&data_type=image&text=car&status=notget',
    )
  })

  it('reset clears the filters', async () => {
    listTasks.mockResolvedValue(makePage([]))
    const list = createList()
    list.filters.service_url = 'http://127.0.0.1:8611/rpost/test'
    await list.search()

    await list.reset()

    expect(list.filters.service_url).toBe('')
    expect(lastQuery()).not.toHaveProperty('service_url')
  })

  it('sorts and falls back to creation time when the sort is cleared', async () => {
    listTasks.mockResolvedValue(makePage([]))
    const list = createList()

    await list.setSort('task_id', 'desc')
    expect(lastQuery()).toMatchObject({ sort: 'task_id', order: 'desc' })

    await list.setSort(null, null)
    expect(lastQuery()).toMatchObject({ sort: 'created_at', order: 'asc' })
  })

  it('changes the page size from the first page', async () => {
    listTasks.mockResolvedValue(makePage([makeTask()], 'next', 100))
    const list = createList()
    await list.load()
    await list.nextPage()

    await list.setPageSize(50)

    expect(lastQuery()).toMatchObject({ limit: 50 })
    expect(lastQuery()).not.toHaveProperty('cursor')
  })

  it('keeps the error and clears the rows when a load fails', async () => {
    listTasks.mockResolvedValueOnce(makePage([makeTask()]))
    listTasks.mockRejectedValueOnce(new ApiError(503, { errid: 1002, errmsg: '数据库查询失败' }))
    const list = createList()
    await list.load()

    await list.load()

    expect(list.error.value).toBeInstanceOf(ApiError)
    expect(list.rows.value).toEqual([])
  })

  it('ignores a response that a later load overtook', async () => {
    let resolveSlow: (page: tasksApi.TaskPage) => void = () => undefined
    listTasks.mockReturnValueOnce(new Promise((resolve) => (resolveSlow = resolve)))
    listTasks.mockResolvedValueOnce(makePage([makeTask({ task_id: 'fresh' })]))
    const list = createList()

    const slow = list.load()
    await list.load()
    resolveSlow(makePage([makeTask({ task_id: 'stale' })]))
    await slow

    expect(list.rows.value.map((task) => task.task_id)).toEqual(['fresh'])
  })

  it('goes back a page when a later page became empty', async () => {
    listTasks
      .mockResolvedValueOnce(makePage([makeTask({ task_id: 'a' })], 'cursor-2', 21))
      .mockResolvedValueOnce(makePage([makeTask({ task_id: 'b' })], null, 21))
      .mockResolvedValueOnce(makePage([], null, 20))
      .mockResolvedValueOnce(makePage([makeTask({ task_id: 'a' })], null, 20))
    const list = createList()
    await list.load()
    await list.nextPage()

    await list.load(true)

    expect(list.pageIndex.value).toBe(0)
    expect(list.rows.value[0]?.task_id).toBe('a')
  })

  describe('server events', () => {
    beforeEach(() => {
      vi.useFakeTimers()
    })

    async function loadedList() {
      listTasks.mockResolvedValue(makePage([makeTask({ task_id: 'shown', version: 3 })]))
      const list = createList()
      await list.load()
      useEvents().start()
      listTasks.mockClear()
      return list
    }

    it('reloads once, debounced, after a burst of relevant events', async () => {
      const list = await loadedList()

      for (let index = 0; index < 5; index += 1) {
        FakeEventSource.latest().emit('task', taskEvent({ task_id: `new-${index}`, status: 'notget' }))
      }
      expect(listTasks).not.toHaveBeenCalled()
      await vi.advanceTimersByTimeAsync(REFRESH_DEBOUNCE_MS)

      expect(listTasks).toHaveBeenCalledTimes(1)
      expect(list.loading.value).toBe(false)
    })

    it('ignores events of tasks that do not concern the list', async () => {
      await loadedList()

      FakeEventSource.latest().emit('task', taskEvent({ task_id: 'elsewhere', status: 'finish' }))
      await vi.advanceTimersByTimeAsync(REFRESH_DEBOUNCE_MS)

      expect(listTasks).not.toHaveBeenCalled()
    })

    it('reloads when a shown task changes', async () => {
      await loadedList()

      FakeEventSource.latest().emit('task', taskEvent({ task_id: 'shown', status: 'running', version: 4 }))
      await vi.advanceTimersByTimeAsync(REFRESH_DEBOUNCE_MS)

      expect(listTasks).toHaveBeenCalledTimes(1)
    })

    it('skips an event the shown row already reflects', async () => {
      await loadedList()

      FakeEventSource.latest().emit('task', taskEvent({ task_id: 'shown', status: 'notget', version: 3 }))
      await vi.advanceTimersByTimeAsync(REFRESH_DEBOUNCE_MS)

      expect(listTasks).not.toHaveBeenCalled()
    })

    it('reloads on bulk changes and resync', async () => {
      await loadedList()

      FakeEventSource.latest().emit('tasks', { service_url: 'u', count: 300 })
      await vi.advanceTimersByTimeAsync(REFRESH_DEBOUNCE_MS)
      FakeEventSource.latest().emit('resync', {})
      await vi.advanceTimersByTimeAsync(REFRESH_DEBOUNCE_MS)

      expect(listTasks).toHaveBeenCalledTimes(2)
    })

    it('stops listening when its scope ends', async () => {
      await loadedList()

      scope.stop()
      FakeEventSource.latest().emit('tasks', { service_url: 'u', count: 300 })
      await vi.advanceTimersByTimeAsync(REFRESH_DEBOUNCE_MS)

      expect(listTasks).not.toHaveBeenCalled()
    })
  })
})
