import { ElMessageBox } from 'element-plus'
import { onMounted, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { releaseTask, submitTask, type Task } from '@/api/tasks'
import { useSessionStore } from '@/stores/session'
import { showError, showSuccess } from '@/utils/notify'
import { useTaskHistory } from '../useTaskHistory'
import { useTaskList } from '../useTaskList'

export const MY_STATUSES = ['running', 'checking', 'finish', ''] as const
export type MyStatus = (typeof MY_STATUSES)[number]

/** Provide my tasks: the tasks I work on, by status, with submit, release and the history drawer. */
export function useMyTasks() {
  const session = useSessionStore()
  const { t } = useI18n()

  // '' lists every status.
  const status = ref<MyStatus>('running')
  const list = useTaskList({
    fixedFilter: () => ({ user: session.username, ...(status.value ? { status: status.value } : {}) }),
    // Also tasks taken away from me (released, reassigned) when they are on another page.
    isRelevant: (event) => event.user === session.username || event.previous_user === session.username,
  })
  const history = useTaskHistory()
  // Id of the task whose action is in flight; one at a time.
  const acting = ref<string | null>(null)

  function setStatus(next: MyStatus): Promise<void> {
    status.value = next
    return list.search()
  }

  async function act(task: Task, action: (id: string) => Promise<Task>, doneKey: string): Promise<void> {
    if (acting.value !== null) return
    acting.value = task.task_id
    try {
      await action(task.task_id)
      showSuccess(t(doneKey, { id: task.task_id }))
      await list.load(true)
    } catch (error) {
      showError(error)
    } finally {
      acting.value = null
    }
  }

  function submit(task: Task): Promise<void> {
    return act(task, submitTask, 'mine.submitted')
  }

  async function release(task: Task): Promise<void> {
    try {
      await ElMessageBox.confirm(t('mine.releaseConfirm', { id: task.task_id }), t('mine.releaseTitle'), {
        type: 'warning',
        confirmButtonText: t('mine.release'),
        cancelButtonText: t('common.cancel'),
      })
    } catch {
      return // Cancelled.
    }
    await act(task, releaseTask, 'mine.released')
  }

  onMounted(() => void list.load())

  return { list, status, setStatus, history, acting, submit, release }
}
