import type { Task, TaskPage } from '@/api/tasks'

/** A task as the API returns it, with `changes` applied. */
export function makeTask(changes: Partial<Task> = {}): Task {
  return {
    task_id: 'task-1',
    service_url: 'http://127.0.0.1:8611/rpost/test',
    status: 'notget',
    service_status: 'notget',
    data_type: 'image',
    description: 'Label the cars',
    reserved: '',
    project_id: '',
    instance_id: '',
    url: '',
    create_time: '',
    extra: {},
    user: '',
    checker: '',
    group_id: '',
    missing: false,
    version: 1,
    created_at: 1_700_000_000,
    updated_at: 1_700_000_000,
    claimed_at: null,
    ...changes,
  }
}

export function makePage(tasks: Task[], next_cursor: string | null = null, total = tasks.length): TaskPage {
  return { tasks, next_cursor, total }
}
