// Pure helpers of bulk assignment: the request bodies and the split of a previewed plan into requests.
import { MAX_BULK_TASKS, type BulkAssignItem, type BulkAssignRequest, type BulkFilter } from '@/api/tasks'

/** Tasks per request when a plan is carried out: small enough for a progress bar to move steadily. */
export const CHUNK_SIZE = 200

export type AssignMode = 'user' | 'round_robin'

/** The assignees of a bulk assignment. */
export interface AssignTarget {
  mode: AssignMode
  /** The one assignee, in mode `user`. */
  user: string
  /** The group whose editors share the tasks, in mode `round_robin`. */
  roundRobinGroup: string
  /** Optional checker of every task, who cannot be one of the assignees. */
  checker: string
  /** Optional group written on the tasks; default the round-robin group. */
  group: string
}

/** The tasks of a bulk assignment: the oldest `limit` tasks that `filter` matches, or the ids chosen in the table. */
export type TaskSelection = { kind: 'filter'; filter: BulkFilter; limit: number } | { kind: 'ids'; taskIds: string[] }

/** One request of a plan being carried out: tasks for one assignee. */
export interface PlanChunk {
  user: string
  taskIds: string[]
}

export function emptyTarget(): AssignTarget {
  return { mode: 'user', user: '', roundRobinGroup: '', checker: '', group: '' }
}

/** Return the i18n key of what is missing or wrong in `target`, or null when it can be previewed. */
export function targetProblem(target: AssignTarget): string | null {
  const user = target.user.trim()
  const checker = target.checker.trim()
  if (target.mode === 'user' && !user) return 'assign.problems.userMissing'
  if (target.mode === 'round_robin' && !target.roundRobinGroup.trim()) return 'assign.problems.groupMissing'
  if (target.mode === 'user' && checker && checker === user) return 'assign.problems.checkerIsUser'
  return null
}

/** Return the dry-run request that previews assigning `selection` to `target`. */
export function previewRequest(selection: TaskSelection, target: AssignTarget): BulkAssignRequest {
  const assignees =
    target.mode === 'user'
      ? { user: target.user.trim(), round_robin_group: '' }
      : { user: '', round_robin_group: target.roundRobinGroup.trim() }
  const tasks =
    selection.kind === 'filter'
      ? { filter: selection.filter, limit: selection.limit }
      : { task_ids: selection.taskIds, limit: MAX_BULK_TASKS }
  return { ...tasks, ...assignees, checker: target.checker.trim(), group: target.group.trim(), dry_run: true }
}

/**
 * Split the planned tasks into requests with one `user` each and at most `size` tasks, assignees in the
 * order the plan first names them. The server plans deterministically, so these requests give the
 * assignments that the preview showed, unless the tasks changed in between.
 */
export function chunkPlan(items: readonly BulkAssignItem[], size = CHUNK_SIZE): PlanChunk[] {
  const byUser = new Map<string, string[]>()
  for (const item of items) {
    if (!item.ok || !item.user) continue
    const ids = byUser.get(item.user) ?? []
    ids.push(item.task_id)
    byUser.set(item.user, ids)
  }
  const chunks: PlanChunk[] = []
  for (const [user, ids] of byUser) {
    for (let start = 0; start < ids.length; start += size) chunks.push({ user, taskIds: ids.slice(start, start + size) })
  }
  return chunks
}

/** Return the request that carries out `chunk` for `target`. */
export function chunkRequest(chunk: PlanChunk, target: AssignTarget): BulkAssignRequest {
  return {
    task_ids: chunk.taskIds,
    // The server applies `limit` to a filter only; it is sent because the request type requires it.
    limit: MAX_BULK_TASKS,
    user: chunk.user,
    round_robin_group: '',
    checker: target.checker.trim(),
    // The group that a round-robin preview writes: the chunk names a user, so the server cannot derive it.
    group: target.group.trim() || (target.mode === 'round_robin' ? target.roundRobinGroup.trim() : ''),
    dry_run: false,
  }
}
