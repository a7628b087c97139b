import { call, client } from './http'
import type { components, paths } from './schema'

export type Task = components['schemas']['TaskOut']
export type TaskPage = components['schemas']['TaskPageOut']
export type TaskDetail = components['schemas']['TaskDetailOut']
export type HistoryEntry = components['schemas']['HistoryOut']
export type TaskSortField = components['schemas']['TaskSortField']
export type SortOrder = components['schemas']['SortOrder']
export type TaskListQuery = NonNullable<paths['/api/v1/tasks']['get']['parameters']['query']>
/** The filters and sort of a task list, shared by the list and its CSV export. */
export type TaskFilter = Omit<TaskListQuery, 'limit' | 'cursor'>
export type ClaimNextFilter = components['schemas']['ClaimNextIn']

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

/** Return the URL of the CSV export of the tasks that `filter` selects; empty filters are left out. */
export function exportTasksUrl(filter: TaskFilter): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(filter)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const query = params.toString()
  return query ? `${EXPORT_PATH}?${query}` : EXPORT_PATH
}
