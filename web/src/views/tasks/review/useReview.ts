import type { FormInstance, FormRules } from 'element-plus'
import { computed, onMounted, reactive, ref, useTemplateRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { approveTask, rejectTask, type Task } from '@/api/tasks'
import { useSessionStore } from '@/stores/session'
import { showError, showSuccess } from '@/utils/notify'
import { useTaskHistory } from '../useTaskHistory'
import { useTaskList } from '../useTaskList'

// The server's limit (MAX_REASON_LENGTH in src/taskdash/tasks/actions.py), counted after trimming.
export const MAX_REASON_LENGTH = 500

/** Provide the review page: the tasks waiting for me as their checker, approved or rejected with a reason. */
export function useReview() {
  const session = useSessionStore()
  const { t } = useI18n()

  const list = useTaskList({
    fixedFilter: () => ({ checker: session.username, status: 'checking' }),
    isRelevant: (event) =>
      (event.checker === session.username && event.status === 'checking') ||
      (event.previous_checker === session.username && event.previous_status === 'checking'),
  })
  const history = useTaskHistory()
  const acting = ref<string | null>(null)

  const rejectFormRef = useTemplateRef<FormInstance>('rejectForm')
  const rejecting = reactive({ visible: false, task: null as Task | null, reason: '' })
  const rejectRules = computed<FormRules>(() => ({
    reason: [
      { type: 'string', required: true, whitespace: true, message: t('review.reasonRequired'), trigger: 'blur' },
      {
        validator: (_rule, value: string, callback) =>
          value.trim().length > MAX_REASON_LENGTH
            ? callback(new Error(t('review.reasonTooLong', { max: MAX_REASON_LENGTH })))
            : callback(),
        trigger: 'blur',
      },
    ],
  }))

  async function approve(task: Task): Promise<void> {
    if (acting.value !== null) return
    acting.value = task.task_id
    try {
      await approveTask(task.task_id)
      showSuccess(t('review.approved', { id: task.task_id }))
      await list.load(true)
    } catch (error) {
      showError(error)
    } finally {
      acting.value = null
    }
  }

  function openReject(task: Task): void {
    rejecting.task = task
    rejecting.reason = ''
    rejecting.visible = true
    rejectFormRef.value?.clearValidate()
  }

  async function confirmReject(): Promise<void> {
    const task = rejecting.task
    if (!task || acting.value !== null) return
    const valid = await rejectFormRef.value?.validate().catch(() => false)
    if (rejectFormRef.value && !valid) return
    const reason = rejecting.reason.trim()
    if (!reason || reason.length > MAX_REASON_LENGTH) return

    acting.value = task.task_id
    try {
      const rejected = await rejectTask(task.task_id, reason)
      rejecting.visible = false
      showSuccess(t('review.rejected', { id: task.task_id, user: rejected.user }))
      await list.load(true)
    } catch (error) {
      showError(error)
    } finally {
      acting.value = null
    }
  }

  onMounted(() => void list.load())

  return { list, history, acting, rejecting, rejectRules, approve, openReject, confirmReject }
}
