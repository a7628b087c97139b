import { afterEach, describe, expect, it, vi } from 'vitest'
import { effectScope, type EffectScope } from 'vue'
import { ApiError } from '@/api/errors'
import * as tasksApi from '@/api/tasks'
import type { BulkAssignItem, BulkAssignResult } from '@/api/tasks'
import { emptyTarget, type AssignTarget, type TaskSelection } from '@/views/assign/plan'
import { useBulkAssign } from '@/views/assign/useBulkAssign'
import { createTestApp } from '../../../support/app'

vi.mock('@/api/tasks', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/tasks')>()),
  bulkAssign: vi.fn(),
}))

const bulkAssign = vi.mocked(tasksApi.bulkAssign)

function item(task_id: string, user: string): BulkAssignItem {
  return { task_id, user, ok: true, errid: null, errmsg: null, detail: null }
}

function failed(task_id: string, errmsg: string): BulkAssignItem {
  return { task_id, user: '', ok: false, errid: 1008, errmsg, detail: 'status finish' }
}

function result(items: BulkAssignItem[], dry_run: boolean): BulkAssignResult {
  const ok = items.filter((entry) => entry.ok)
  const per_user: Record<string, number> = {}
  for (const entry of ok) per_user[entry.user] = (per_user[entry.user] ?? 0) + 1
  return { dry_run, items, ok: ok.length, failed: items.length - ok.length, total_matching: items.length, per_user }
}

const SELECTION: TaskSelection = { kind: 'ids', taskIds: ['t1', 't2', 't3', 't4'] }
const TARGET: AssignTarget = { ...emptyTarget(), mode: 'round_robin', roundRobinGroup: 'g1', checker: 'carol' }

let scope: EffectScope

function createBulk() {
  createTestApp()
  scope = effectScope()
  const bulk = scope.run(() => useBulkAssign())
  if (!bulk) throw new Error('useBulkAssign returned nothing')
  return bulk
}

afterEach(() => scope?.stop())

describe('useBulkAssign', () => {
  it('previews with a dry run and keeps the plan', async () => {
    const plan = result([item('t1', 'alice'), item('t2', 'bob'), failed('t3', '状态不允许')], true)
    bulkAssign.mockResolvedValue(plan)
    const bulk = createBulk()

    await bulk.runPreview(SELECTION, TARGET)

    expect(bulkAssign).toHaveBeenCalledWith(expect.objectContaining({ dry_run: true, round_robin_group: 'g1' }))
    expect(bulk.preview.value).toEqual(plan)
    expect(bulk.failures.value.map((entry) => entry.task_id)).toEqual(['t3'])
    expect(bulk.previewKey.value).toBe(bulk.keyOf(SELECTION, TARGET))
    expect(bulk.keyOf(SELECTION, { ...TARGET, checker: 'dave' })).not.toBe(bulk.previewKey.value)
  })

  it('carries out the plan one assignee per request with the preview target', async () => {
    bulkAssign.mockResolvedValueOnce(result([item('t1', 'alice'), item('t2', 'bob'), item('t3', 'alice')], true))
    bulkAssign.mockResolvedValueOnce(result([item('t1', 'alice'), item('t3', 'alice')], false))
    bulkAssign.mockResolvedValueOnce(result([item('t2', 'bob')], false))
    const bulk = createBulk()
    await bulk.runPreview(SELECTION, TARGET)

    const outcome = await bulk.execute()

    expect(bulkAssign).toHaveBeenNthCalledWith(2, {
      task_ids: ['t1', 't3'],
      limit: tasksApi.MAX_BULK_TASKS,
      user: 'alice',
      round_robin_group: '',
      checker: 'carol',
      group: 'g1',
      dry_run: false,
    })
    expect(bulkAssign).toHaveBeenNthCalledWith(3, expect.objectContaining({ task_ids: ['t2'], user: 'bob' }))
    expect(outcome).toEqual({ assigned: 3, failed: [], stopped: false })
    expect(bulk.progress.done).toBe(3)
    expect(bulk.percent.value).toBe(100)
    expect(bulk.preview.value).toBeNull()
  })

  it('collects the tasks the server refused while carrying out', async () => {
    bulkAssign.mockResolvedValueOnce(result([item('t1', 'alice'), item('t2', 'alice')], true))
    bulkAssign.mockResolvedValueOnce(result([item('t1', 'alice'), failed('t2', '任务已被领取')], false))
    const bulk = createBulk()
    await bulk.runPreview(SELECTION, TARGET)

    const outcome = await bulk.execute()

    expect(outcome?.assigned).toBe(1)
    expect(outcome?.failed.map((entry) => entry.errmsg)).toEqual(['任务已被领取'])
  })

  it('marks the tasks of a failed request and goes on with the next', async () => {
    bulkAssign.mockResolvedValueOnce(result([item('t1', 'alice'), item('t2', 'bob')], true))
    bulkAssign.mockRejectedValueOnce(new ApiError(503, { errid: 1001, errmsg: '数据库存储失败' }))
    bulkAssign.mockResolvedValueOnce(result([item('t2', 'bob')], false))
    const bulk = createBulk()
    await bulk.runPreview(SELECTION, TARGET)

    const outcome = await bulk.execute()

    expect(outcome?.failed).toEqual([
      { task_id: 't1', user: '', ok: false, errid: 1001, errmsg: '数据库存储失败', detail: null },
    ])
    expect(outcome?.assigned).toBe(1)
  })

  it('stops after a lost session', async () => {
    bulkAssign.mockResolvedValueOnce(result([item('t1', 'alice'), item('t2', 'bob')], true))
    bulkAssign.mockRejectedValueOnce(new ApiError(401, { errid: 1003, errmsg: '未登录' }))
    const bulk = createBulk()
    await bulk.runPreview(SELECTION, TARGET)

    const outcome = await bulk.execute()

    expect(bulkAssign).toHaveBeenCalledTimes(2)
    expect(outcome?.stopped).toBe(true)
  })

  it('stops between requests when asked', async () => {
    bulkAssign.mockResolvedValueOnce(result([item('t1', 'alice'), item('t2', 'bob')], true))
    const bulk = createBulk()
    await bulk.runPreview(SELECTION, TARGET)
    bulkAssign.mockImplementationOnce(async () => {
      bulk.stop()
      return result([item('t1', 'alice')], false)
    })

    const outcome = await bulk.execute()

    expect(bulkAssign).toHaveBeenCalledTimes(2)
    expect(outcome).toEqual({ assigned: 1, failed: [], stopped: true })
  })

  it('does nothing without a preview', async () => {
    const bulk = createBulk()

    expect(await bulk.execute()).toBeNull()
    expect(bulkAssign).not.toHaveBeenCalled()
  })
})
