import { describe, expect, it } from 'vitest'
import type { BulkAssignItem } from '@/api/tasks'
import { chunkPlan, chunkRequest, emptyTarget, previewRequest, targetProblem, type AssignTarget } from '@/views/assign/plan'

function item(task_id: string, user: string, ok = true): BulkAssignItem {
  return { task_id, user: ok ? user : '', ok, errid: ok ? null : 1008, errmsg: ok ? null : '状态不允许', detail: null }
}

function target(changes: Partial<AssignTarget>): AssignTarget {
  return { ...emptyTarget(), ...changes }
}

const FILTER = { status: 'notget', data_type: 'image', service_url: '', text: '', group_id: '', user: '', checker: '' }

describe('chunkPlan', () => {
  it('makes one request per assignee in the order of the plan', () => {
    const chunks = chunkPlan([item('t1', 'bob'), item('t2', 'alice'), item('t3', 'bob')])

    expect(chunks).toEqual([
      { user: 'bob', taskIds: ['t1', 't3'] },
      { user: 'alice', taskIds: ['t2'] },
    ])
  })

  it('splits an assignee with many tasks into chunks of the given size', () => {
    const items = Array.from({ length: 450 }, (_, index) => item(`t${index}`, 'alice'))

    const chunks = chunkPlan(items, 200)

    expect(chunks.map((chunk) => chunk.taskIds.length)).toEqual([200, 200, 50])
    expect(chunks[2]?.taskIds[0]).toBe('t400')
  })

  it('leaves out the tasks that failed in the preview', () => {
    expect(chunkPlan([item('t1', '', false), item('t2', 'bob')])).toEqual([{ user: 'bob', taskIds: ['t2'] }])
  })
})

describe('previewRequest', () => {
  it('previews a filter for one user', () => {
    const request = previewRequest(
      { kind: 'filter', filter: FILTER, limit: 30 },
      target({ user: ' alice ', checker: 'carol', roundRobinGroup: 'ignored' }),
    )

    expect(request).toEqual({
      filter: FILTER,
      limit: 30,
      user: 'alice',
      round_robin_group: '',
      checker: 'carol',
      group: '',
      dry_run: true,
    })
  })

  it('previews a selection round-robin over a group', () => {
    const request = previewRequest(
      { kind: 'ids', taskIds: ['t1', 't2'] },
      target({ mode: 'round_robin', user: 'ignored', roundRobinGroup: 'g1' }),
    )

    expect(request).toMatchObject({ task_ids: ['t1', 't2'], user: '', round_robin_group: 'g1', dry_run: true })
    expect(request).not.toHaveProperty('filter')
  })
})

describe('chunkRequest', () => {
  it('writes the round-robin group on the tasks when no group is given', () => {
    const request = chunkRequest({ user: 'bob', taskIds: ['t1'] }, target({ mode: 'round_robin', roundRobinGroup: 'g1' }))

    expect(request).toMatchObject({ task_ids: ['t1'], user: 'bob', round_robin_group: '', group: 'g1', dry_run: false })
  })

  it('keeps an explicit group and the checker', () => {
    const request = chunkRequest(
      { user: 'bob', taskIds: ['t1'] },
      target({ mode: 'round_robin', roundRobinGroup: 'g1', group: 'g2', checker: 'carol' }),
    )

    expect(request).toMatchObject({ group: 'g2', checker: 'carol' })
  })

  it('writes no group for one user without a group', () => {
    expect(chunkRequest({ user: 'bob', taskIds: ['t1'] }, target({ user: 'bob' })).group).toBe('')
  })
})

describe('targetProblem', () => {
  it('names what is missing', () => {
    expect(targetProblem(target({}))).toBe('assign.problems.userMissing')
    expect(targetProblem(target({ mode: 'round_robin' }))).toBe('assign.problems.groupMissing')
    expect(targetProblem(target({ user: 'bob', checker: 'bob' }))).toBe('assign.problems.checkerIsUser')
  })

  it('accepts a complete target', () => {
    expect(targetProblem(target({ user: 'bob', checker: 'carol' }))).toBeNull()
    expect(targetProblem(target({ mode: 'round_robin', roundRobinGroup: 'g1', checker: 'carol' }))).toBeNull()
  })
})
