import { exportUrl } from './exportUrl'
import { call, client } from './http'
import type { components, paths } from './schema'

export type Task = components['schemas']['TaskOut']
export type TaskPage = components['schemas']['TaskPageOut']
export type TaskDetail = components['schemas']['TaskDetailOut']
export type HistoryEntry = components['schemas']['HistoryOut']
export type TaskListQuery = NonNullable<paths['/api/v1/tasks']['get']['parameters']['query']>
export type TaskSortField = NonNullable<TaskListQuery['sort']>
export type SortOrder = NonNullable<TaskListQuery['order']>
/** The filters and sort of a task list, shared by the list and its CSV export. */
export type TaskFilter = Omit<TaskListQuery, 'limit' | 'cursor'>
export type ClaimNextFilter = components['schemas']['ClaimNextIn']
/** One data type of the tasks visible to the user, with the number of such tasks. */
export type DataTypeCount = components['schemas']['DataTypeCount']
export type Assignment = components['schemas']['AssignIn']
export type BulkAssignRequest = components['schemas']['BulkAssignIn']
export type BulkAssignResult = components['schemas']['BulkAssignOut']
export type BulkAssignItem = components['schemas']['BulkItemOut']
export type BulkFilter = components['schemas']['BulkFilterIn']

/** The server's maximum number of tasks in one bulk assignment, by `task_ids` or by `filter` and `limit`. */
export const MAX_BULK_TASKS = 1000

export const EXPORT_PATH = '/api/v1/tasks/export.csv'

export function listTasks(query: TaskListQuery): Promise<TaskPage> {
  return call(client.GET('/api/v1/tasks', { params: { query } }))
}

export function getTask(taskId: string): Promise<TaskDetail> {
  return call(client.GET('/api/v1/tasks/{task_id}', { params: { path: { task_id: taskId } } }))
}

export function claimTask(taskId: string): Promise<Task> {
  return call(client.POST('/api/v1/tasks/{task_id}/claim', { params: { path: { task_id: taskId } } }))
}

export function claimNextTask(filter: ClaimNextFilter): Promise<Task> {
  return call(client.POST('/api/v1/tasks/claim-next', { body: filter }))
}

export function releaseTask(taskId: string): Promise<Task> {
  return call(client.POST('/api/v1/tasks/{task_id}/release', { params: { path: { task_id: taskId } } }))
}

export function submitTask(taskId: string): Promise<Task> {
  return call(client.POST('/api/v1/tasks/{task_id}/submit', { params: { path: { task_id: taskId } } }))
}

export function approveTask(taskId: string): Promise<Task> {
  return call(client.POST('/api/v1/tasks/{task_id}/approve', { params: { path: { task_id: taskId } } }))
}

export function rejectTask(taskId: string, reason: string): Promise<Task> {
  return call(
    client.POST('/api/v1/tasks/{task_id}/reject', { params: { path: { task_id: taskId } }, body: { reason } }),
  )
}

/** Return the data types of the tasks visible to the user, with their task counts. */
export async function listDataTypes(): Promise<DataTypeCount[]> {
  return (await call(client.GET('/api/v1/tasks/data-types'))).data_types
}

/** Assign or reassign a task to `assignment.user`, with an optional checker and group. */
export function assignTask(taskId: string, assignment: Assignment): Promise<Task> {
  return call(
    client.POST('/api/v1/tasks/{task_id}/assign', { params: { path: { task_id: taskId } }, body: assignment }),
  )
}

/** Set the checker of a task in running or checking. The status stays as it is. */
export function setTaskChecker(taskId: string, checker: string): Promise<Task> {
  return call(client.POST('/api/v1/tasks/{task_id}/checker', { params: { path: { task_id: taskId } }, body: { checker } }))
}

/** Assign many tasks at once, or with `dry_run` only return the plan. One failing task does not stop the others. */
export function bulkAssign(request: BulkAssignRequest): Promise<BulkAssignResult> {
  return call(client.POST('/api/v1/tasks/bulk-assign', { body: request }))
}

/** Return the URL of the CSV export of the tasks that `filter` selects; empty filters are left out. */
export function exportTasksUrl(filter: TaskFilter): string {
  return exportUrl(EXPORT_PATH, filter)
}
